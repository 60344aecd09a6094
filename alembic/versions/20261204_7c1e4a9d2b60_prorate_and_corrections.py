"""units' billing periods, subscriptions' first and last days, and a cancelled charge stepping aside

Revision ID: 7c1e4a9d2b60
Revises: 8c4e2a6f1d3b
Create Date: 2026-12-04 15:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '7c1e4a9d2b60'
down_revision: str | Sequence[str] | None = '8c4e2a6f1d3b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BILLED_ONCE = "source IN ('billing', 'meter') AND state = 'open'"


def upgrade() -> None:
    op.create_table(
        'unit_billing_period',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('estate_id', sa.Uuid(), nullable=False),
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('billed_from', sa.Date(), nullable=True),
        sa.Column('billed_to', sa.Date(), nullable=True),
        sa.CheckConstraint('billed_to IS NULL OR billed_from IS NULL OR billed_to >= billed_from',
                           name=op.f('ck_unit_billing_period_billed_in_order')),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_unit_billing_period_estate_id_estate')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_unit_billing_period_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_billing_period')),
        sa.UniqueConstraint('unit_id', name=op.f('uq_unit_billing_period_unit_id')),
    )
    op.create_index(op.f('ix_unit_billing_period_estate_id'), 'unit_billing_period', ['estate_id'], unique=False)
    op.add_column('unit_fee_item', sa.Column('starts_on', sa.Date(), nullable=True))
    op.add_column('unit_fee_item', sa.Column('ends_on', sa.Date(), nullable=True))
    # A cancelled charge steps aside so that its replacement can bill the same unit, item and month.
    op.drop_index('uq_charge_unit_item_period', table_name='charge')
    op.create_index('uq_charge_unit_item_period', 'charge', ['unit_id', 'fee_item_id', 'period'], unique=True,
                    postgresql_where=sa.text(BILLED_ONCE))


def downgrade() -> None:
    op.drop_index('uq_charge_unit_item_period', table_name='charge')
    op.create_index('uq_charge_unit_item_period', 'charge', ['unit_id', 'fee_item_id', 'period'], unique=True,
                    postgresql_where=sa.text("source IN ('billing', 'meter')"))
    op.drop_column('unit_fee_item', 'ends_on')
    op.drop_column('unit_fee_item', 'starts_on')
    op.drop_index(op.f('ix_unit_billing_period_estate_id'), table_name='unit_billing_period')
    op.drop_table('unit_billing_period')
