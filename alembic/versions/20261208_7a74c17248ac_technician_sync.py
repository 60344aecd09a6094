"""technician sync: device times beside the server's, and notes for the callback

Revision ID: 7a74c17248ac
Revises: 1a1a285a66f5
Create Date: 2026-12-08 03:00:00.000000

The sync itself needs no column: it reads what changed from each row's xmin (see
app/domain/repairs/sync/cursor.py).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '7a74c17248ac'
down_revision: str | Sequence[str] | None = '1a1a285a66f5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.add_column('work_order', sa.Column('started_on_device_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('work_order', sa.Column('completed_on_device_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('voucher', sa.Column('posted_on_device_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'work_order_note',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('estate_id', sa.Uuid(), nullable=False),
        sa.Column('work_order_id', sa.Uuid(), nullable=False),
        sa.Column('author_id', sa.Uuid(), nullable=False),
        sa.Column('text', Text(length=2000), nullable=False),
        sa.Column('noted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('noted_on_device_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_work_order_note_estate_id_estate')),
        sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_work_order_note_work_order_id_work_order')),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_work_order_note_author_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_note')),
    )
    op.create_index(op.f('ix_work_order_note_estate_id'), 'work_order_note', ['estate_id'], unique=False)
    op.create_index(op.f('ix_work_order_note_author_id'), 'work_order_note', ['author_id'], unique=False)
    op.create_index('ix_work_order_note_order_noted', 'work_order_note', ['work_order_id', 'noted_at'], unique=False)


def downgrade() -> None:
    op.drop_table('work_order_note')
    op.drop_column('voucher', 'posted_on_device_at')
    op.drop_column('work_order', 'completed_on_device_at')
    op.drop_column('work_order', 'started_on_device_at')
