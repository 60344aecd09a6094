"""stream tickets: a browser's EventSource opens the event stream once with a ticket, not a header

Revision ID: 1828fdd3af8a
Revises: 7b08ab9d338e
Create Date: 2026-12-08 00:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '1828fdd3af8a'
down_revision: str | Sequence[str] | None = '7b08ab9d338e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stream_ticket',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ticket_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('credential_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('is_api_key', sa.Boolean(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('used_by', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stream_ticket')),
        sa.UniqueConstraint('ticket_hash', name=op.f('uq_stream_ticket_ticket_hash')),
    )
    op.create_index(op.f('ix_stream_ticket_expires_at'), 'stream_ticket', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_stream_ticket_expires_at'), table_name='stream_ticket')
    op.drop_table('stream_ticket')
