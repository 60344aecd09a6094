"""channel reconciliation: a day's statement per estate and channel, its lines, and reconciliation items

Revision ID: ed5a921933c1
Revises: 7a74c17248ac
Create Date: 2026-12-08 03:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = 'ed5a921933c1'
down_revision: str | Sequence[str] | None = '7a74c17248ac'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
JSONB = postgresql.JSONB(astext_type=sa.Text())


def _base() -> list[sa.Column]:
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('estate_id', sa.Uuid(), nullable=False)]


def _money(name: str, digits: int = 12, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Numeric(digits, 2), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'channel_statement', *_base(),
        sa.Column('channel', sa.String(20), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('source', sa.String(20), nullable=False),
        sa.Column('sha1', Text(length=40), nullable=False),
        sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('imported_by', sa.Uuid(), nullable=True),
        sa.Column('imports', sa.Integer(), nullable=False),
        sa.Column('line_count', sa.Integer(), nullable=False),
        _money('settled_total', 14), _money('refund_total', 14), _money('fee_total', 14), _money('order_total', 14),
        _money('net', 14),
        sa.Column('counts', JSONB, nullable=False),
        sa.Column('amounts', JSONB, nullable=False),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_channel_statement_estate_id_estate')),
        sa.ForeignKeyConstraint(['imported_by'], ['user.id'], name=op.f('fk_channel_statement_imported_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_statement')),
        sa.UniqueConstraint('estate_id', 'channel', 'day', name=op.f('uq_channel_statement_estate_id_channel_day')),
    )
    op.create_index(op.f('ix_channel_statement_estate_id'), 'channel_statement', ['estate_id'], unique=False)
    op.create_table(
        'channel_statement_line', *_base(),
        sa.Column('statement_id', sa.Uuid(), nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('channel_ref', Text(length=64), nullable=False),
        sa.Column('out_no', Text(length=64), nullable=False),
        sa.Column('out_trade_no', Text(length=64), nullable=False),
        sa.Column('status', Text(length=20), nullable=False),
        _money('amount'), _money('settled'), _money('fee'),
        sa.Column('category', sa.String(30), nullable=False),
        sa.Column('channel_payment_id', sa.Uuid(), nullable=True),
        sa.Column('detail', JSONB, nullable=False),
        sa.CheckConstraint("kind IN ('payment', 'refund')", name=op.f('ck_channel_statement_line_kind_known')),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_channel_statement_line_estate_id_estate')),
        sa.ForeignKeyConstraint(['statement_id'], ['channel_statement.id'],
                                name=op.f('fk_channel_statement_line_statement_id_channel_statement')),
        sa.ForeignKeyConstraint(['channel_payment_id'], ['channel_payment.id'],
                                name=op.f('fk_channel_statement_line_channel_payment_id_channel_payment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_statement_line')),
        sa.UniqueConstraint('statement_id', 'kind', 'channel_ref',
                            name=op.f('uq_channel_statement_line_statement_id_kind_channel_ref')),
    )
    op.create_index(op.f('ix_channel_statement_line_estate_id'), 'channel_statement_line', ['estate_id'], unique=False)
    op.create_index(op.f('ix_channel_statement_line_statement_id'), 'channel_statement_line', ['statement_id'], unique=False)
    op.create_table(
        'reconciliation_item', *_base(),
        sa.Column('channel', sa.String(20), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('category', sa.String(30), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('reference', Text(length=64), nullable=False),
        sa.Column('out_trade_no', Text(length=64), nullable=False),
        sa.Column('channel_payment_id', sa.Uuid(), nullable=True),
        _money('channel_amount', nullable=True), _money('booked_amount', nullable=True),
        sa.Column('channel_status', Text(length=20), nullable=False),
        sa.Column('booked_status', Text(length=20), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('resolved_by', sa.Uuid(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("category <> 'matched'", name=op.f('ck_reconciliation_item_not_matched')),
        sa.CheckConstraint("status = 'open' OR (resolved_by IS NOT NULL AND note <> '')",
                           name=op.f('ck_reconciliation_item_resolved_with_note')),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_reconciliation_item_estate_id_estate')),
        sa.ForeignKeyConstraint(['channel_payment_id'], ['channel_payment.id'],
                                name=op.f('fk_reconciliation_item_channel_payment_id_channel_payment')),
        sa.ForeignKeyConstraint(['resolved_by'], ['user.id'], name=op.f('fk_reconciliation_item_resolved_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_item')),
        sa.UniqueConstraint('estate_id', 'channel', 'category', 'reference',
                            name=op.f('uq_reconciliation_item_estate_id_channel_category_reference')),
    )
    op.create_index(op.f('ix_reconciliation_item_estate_id'), 'reconciliation_item', ['estate_id'], unique=False)
    op.create_index(op.f('ix_reconciliation_item_channel_payment_id'), 'reconciliation_item', ['channel_payment_id'],
                    unique=False)
    op.create_index('ix_reconciliation_item_open', 'reconciliation_item', ['estate_id', 'status', 'day'], unique=False)


def downgrade() -> None:
    op.drop_table('reconciliation_item')
    op.drop_table('channel_statement_line')
    op.drop_table('channel_statement')
