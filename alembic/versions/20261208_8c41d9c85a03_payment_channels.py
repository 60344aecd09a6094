"""payment channels: an estate's WeChat Pay credentials (sealed), channel payments, channel alerts

Revision ID: 8c41d9c85a03
Revises: 1828fdd3af8a
Create Date: 2026-12-08 01:00:00.000000

The online receipt series (QS-W-) needs nothing here: receipt.series and document_counter.series
are free strings, and the counter row of a new series is made by its first number.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = '8c41d9c85a03'
down_revision: str | Sequence[str] | None = '1828fdd3af8a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString


def _base() -> list[sa.Column]:
    return [sa.Column('id', sa.Uuid(), nullable=False),
            sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('estate_id', sa.Uuid(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'channel_credential', *_base(),
        sa.Column('channel', sa.String(20), nullable=False),
        sa.Column('mchid', Text(length=32), nullable=False),
        sa.Column('appid', Text(length=32), nullable=False),
        sa.Column('merchant_serial_no', Text(length=64), nullable=False),
        sa.Column('platform_public_key_id', Text(length=64), nullable=False),
        sa.Column('sealed', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_channel_credential_estate_id_estate')),
        sa.ForeignKeyConstraint(['updated_by'], ['user.id'], name=op.f('fk_channel_credential_updated_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_credential')),
        sa.UniqueConstraint('estate_id', 'channel', name=op.f('uq_channel_credential_estate_id_channel')),
    )
    op.create_index(op.f('ix_channel_credential_estate_id'), 'channel_credential', ['estate_id'], unique=False)
    op.create_table(
        'channel_payment', *_base(),
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('channel', sa.String(20), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('out_trade_no', Text(length=32), nullable=False),
        sa.Column('amount', sa.Numeric(12, 2), nullable=False),
        sa.Column('charge_ids', postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('code_url', Text(length=300), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Uuid(), nullable=False),
        sa.Column('transaction_id', Text(length=64), nullable=True),
        sa.Column('payment_id', sa.Uuid(), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', Text(length=200), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_channel_payment_amount_positive')),
        sa.CheckConstraint("status IN ('pending', 'paid', 'failed', 'closed')", name=op.f('ck_channel_payment_status_known')),
        sa.CheckConstraint("status <> 'paid' OR (transaction_id IS NOT NULL AND payment_id IS NOT NULL)",
                           name=op.f('ck_channel_payment_paid_is_booked')),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_channel_payment_estate_id_estate')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_channel_payment_unit_id_unit')),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_channel_payment_created_by_user')),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_channel_payment_payment_id_payment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_payment')),
        sa.UniqueConstraint('channel', 'out_trade_no', name=op.f('uq_channel_payment_channel_out_trade_no')),
        sa.UniqueConstraint('channel', 'transaction_id', name=op.f('uq_channel_payment_channel_transaction_id')),
        sa.UniqueConstraint('payment_id', name=op.f('uq_channel_payment_payment_id')),
    )
    op.create_index(op.f('ix_channel_payment_estate_id'), 'channel_payment', ['estate_id'], unique=False)
    op.create_index(op.f('ix_channel_payment_unit_id'), 'channel_payment', ['unit_id'], unique=False)
    op.create_index('ix_channel_payment_estate_created', 'channel_payment', ['estate_id', 'created_at'], unique=False)
    op.create_table(
        'channel_alert', *_base(),
        sa.Column('channel', sa.String(20), nullable=False),
        sa.Column('notification_id', Text(length=64), nullable=False),
        sa.Column('reason', sa.String(40), nullable=False),
        sa.Column('channel_payment_id', sa.Uuid(), nullable=True),
        sa.Column('out_trade_no', Text(length=64), nullable=False),
        sa.Column('transaction_id', Text(length=64), nullable=False),
        sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_channel_alert_estate_id_estate')),
        sa.ForeignKeyConstraint(['channel_payment_id'], ['channel_payment.id'],
                                name=op.f('fk_channel_alert_channel_payment_id_channel_payment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_alert')),
        sa.UniqueConstraint('channel', 'notification_id', 'reason', name=op.f('uq_channel_alert_channel_notification_id_reason')),
    )
    op.create_index(op.f('ix_channel_alert_estate_id'), 'channel_alert', ['estate_id'], unique=False)
    op.create_index(op.f('ix_channel_alert_channel_payment_id'), 'channel_alert', ['channel_payment_id'], unique=False)


def downgrade() -> None:
    op.drop_table('channel_alert')
    op.drop_table('channel_payment')
    op.drop_table('channel_credential')
