"""owner one-time code: owner_code table, hidden text of owner notifications, no code on vouchers

Revision ID: 8ab389204514
Revises: 6b87aaa862a5
Create Date: 2026-12-03 12:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '8ab389204514'
down_revision: str | Sequence[str] | None = '6b87aaa862a5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('owner_code',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('work_order_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.Uuid(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('failed_attempts >= 0', name=op.f('ck_owner_code_failed_attempts_not_negative')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_owner_code_estate_id_estate')),
    sa.ForeignKeyConstraint(['issued_by'], ['user.id'], name=op.f('fk_owner_code_issued_by_user')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_owner_code_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_code')),
    sa.UniqueConstraint('work_order_id', name=op.f('uq_owner_code_work_order_id'))
    )
    op.create_index(op.f('ix_owner_code_estate_id'), 'owner_code', ['estate_id'], unique=False)
    op.add_column('owner_notification', sa.Column('text_shown', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    # The code used to be derived from the order (and kept here); it is one-time now and never stored.
    op.drop_column('voucher', 'confirmation_code')


def downgrade() -> None:
    op.add_column('voucher', sa.Column('confirmation_code', sqlmodel.sql.sqltypes.AutoString(length=20),
                                       nullable=False, server_default=''))
    op.alter_column('voucher', 'confirmation_code', server_default=None)
    op.drop_column('owner_notification', 'text_shown')
    op.drop_index(op.f('ix_owner_code_estate_id'), table_name='owner_code')
    op.drop_table('owner_code')
