"""waivers (减免) on charges and discount rules over a set of units

Revision ID: 7c1e2a9b4d60
Revises: 7c1e4a9d2b60
Create Date: 2026-12-04 15:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = '7c1e2a9b4d60'
down_revision: str | Sequence[str] | None = '7c1e4a9d2b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _decision_columns() -> list[sa.Column]:
    return [
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_by', sa.Uuid(), nullable=True),
        sa.Column('decided_by', sa.Uuid(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    ]


def upgrade() -> None:
    op.create_table('discount_rule',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('fee_item_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Numeric(12, 2), nullable=False),
    sa.Column('unit_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('building_id', sa.Uuid(), nullable=True),
    sa.Column('from_month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('to_month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    *_decision_columns(),
    sa.CheckConstraint("value > 0 AND (kind = 'amount' OR value <= 100)", name=op.f('ck_discount_rule_value_in_range')),
    sa.CheckConstraint('to_month IS NULL OR to_month >= from_month', name=op.f('ck_discount_rule_months_in_order')),
    sa.CheckConstraint('unit_ids IS NULL OR building_id IS NULL', name=op.f('ck_discount_rule_one_unit_set')),
    sa.CheckConstraint("status IN ('requested', 'approved', 'rejected', 'withdrawn')",
                       name=op.f('ck_discount_rule_status_known')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_discount_rule_estate_id_estate')),
    sa.ForeignKeyConstraint(['fee_item_id'], ['fee_item.id'], name=op.f('fk_discount_rule_fee_item_id_fee_item')),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_discount_rule_building_id_building')),
    sa.ForeignKeyConstraint(['requested_by'], ['user.id'], name=op.f('fk_discount_rule_requested_by_user')),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_discount_rule_decided_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discount_rule')),
    )
    op.create_index(op.f('ix_discount_rule_estate_id'), 'discount_rule', ['estate_id'], unique=False)
    op.create_index(op.f('ix_discount_rule_fee_item_id'), 'discount_rule', ['fee_item_id'], unique=False)
    op.create_table('waiver',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('charge_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Numeric(12, 2), nullable=False),
    sa.Column('amount', sa.Numeric(12, 2), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    *_decision_columns(),
    sa.Column('rule_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_waiver_amount_positive')),
    sa.CheckConstraint("value > 0 AND (kind <> 'percentage' OR value <= 100)", name=op.f('ck_waiver_value_in_range')),
    sa.CheckConstraint("status IN ('requested', 'approved', 'rejected', 'withdrawn', 'reversed')",
                       name=op.f('ck_waiver_status_known')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_waiver_estate_id_estate')),
    sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_waiver_charge_id_charge')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_waiver_unit_id_unit')),
    sa.ForeignKeyConstraint(['requested_by'], ['user.id'], name=op.f('fk_waiver_requested_by_user')),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_waiver_decided_by_user')),
    sa.ForeignKeyConstraint(['rule_id'], ['discount_rule.id'], name=op.f('fk_waiver_rule_id_discount_rule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waiver')),
    )
    op.create_index(op.f('ix_waiver_estate_id'), 'waiver', ['estate_id'], unique=False)
    op.create_index(op.f('ix_waiver_charge_id'), 'waiver', ['charge_id'], unique=False)
    op.create_index('ix_waiver_estate_status', 'waiver', ['estate_id', 'status', 'created_at'], unique=False)
    # A rule waives a charge once, however often it is applied.
    op.create_index('uq_waiver_rule_charge', 'waiver', ['rule_id', 'charge_id'], unique=True,
                    postgresql_where=sa.text('rule_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_table('waiver')
    op.drop_table('discount_rule')
