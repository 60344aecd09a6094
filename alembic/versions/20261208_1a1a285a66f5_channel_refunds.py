"""channel refunds: a refund of a channel payment, sent back through the channel (issue 18)

Revision ID: 1a1a285a66f5
Revises: 5e0c4a1f9b27
Create Date: 2026-12-08 03:00:00.000000

The new alert reasons (refund_unknown, refund_mismatch, refund_abnormal, refund_not_reversed)
need nothing here: channel_alert.reason is a free string.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '1a1a285a66f5'
down_revision: str | Sequence[str] | None = '5e0c4a1f9b27'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_channel_refund_{column}_{target}'))


def upgrade() -> None:
    op.create_table(
        'channel_refund',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('estate_id', sa.Uuid(), nullable=False),
        sa.Column('channel', sa.String(20), nullable=False),
        sa.Column('channel_payment_id', sa.Uuid(), nullable=False),
        sa.Column('payment_id', sa.Uuid(), nullable=False),
        sa.Column('receipt_id', sa.Uuid(), nullable=False),
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('out_refund_no', Text(length=64), nullable=False),
        sa.Column('amount', sa.Numeric(12, 2), nullable=False),
        sa.Column('reason', Text(length=500), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('requested_by', sa.Uuid(), nullable=False),
        sa.Column('refund_id', Text(length=64), nullable=True),
        sa.Column('channel_status', Text(length=40), nullable=False),
        sa.Column('channel_reason', Text(length=300), nullable=False),
        sa.Column('user_received_account', Text(length=100), nullable=False),
        sa.Column('succeeded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('receipt_reversed', sa.Boolean(), nullable=True),
        sa.CheckConstraint('amount > 0', name=op.f('ck_channel_refund_amount_positive')),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed', 'closed', 'abnormal')",
                           name=op.f('ck_channel_refund_status_known')),
        sa.CheckConstraint("status <> 'succeeded' OR succeeded_at IS NOT NULL", name=op.f('ck_channel_refund_succeeded_has_time')),
        _fk('estate_id', 'estate'), _fk('channel_payment_id', 'channel_payment'), _fk('payment_id', 'payment'),
        _fk('receipt_id', 'receipt'), _fk('unit_id', 'unit'), _fk('requested_by', 'user'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_refund')),
        sa.UniqueConstraint('channel', 'out_refund_no', name=op.f('uq_channel_refund_channel_out_refund_no')),
    )
    for column in ('estate_id', 'channel_payment_id', 'payment_id', 'receipt_id', 'unit_id'):
        op.create_index(op.f(f'ix_channel_refund_{column}'), 'channel_refund', [column], unique=False)
    op.create_index('uq_channel_refund_live_per_payment', 'channel_refund', ['channel_payment_id'], unique=True,
                    postgresql_where=sa.text("status IN ('pending', 'abnormal', 'succeeded')"))


def downgrade() -> None:
    op.drop_table('channel_refund')
