"""prepay N months, get M free (预交N个月送M个月): a discount rule's terms, and its grants to units

Revision ID: 2a06b5d5fa60
Revises: 9d2f6b3a8c15
Create Date: 2026-12-07 23:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = '2a06b5d5fa60'
down_revision: str | Sequence[str] | None = '9d2f6b3a8c15'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app/domain/fees/waivers/model.py writes it; every rule made before has neither term.
PREPAY_TERMS = ("(kind = 'prepay_months') = (prepay_months IS NOT NULL AND free_months IS NOT NULL) "
                "AND (kind = 'prepay_months' OR (prepay_months IS NULL AND free_months IS NULL)) "
                "AND (prepay_months IS NULL OR prepay_months BETWEEN 1 AND 36) "
                "AND (free_months IS NULL OR free_months BETWEEN 1 AND LEAST(12, prepay_months))")


def upgrade() -> None:
    op.add_column('discount_rule', sa.Column('prepay_months', sa.Integer(), nullable=True))
    op.add_column('discount_rule', sa.Column('free_months', sa.Integer(), nullable=True))
    op.create_check_constraint(op.f('ck_discount_rule_prepay_terms'), 'discount_rule', PREPAY_TERMS)
    op.create_table('prepay_grant',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('rule_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('receipt_id', sa.Uuid(), nullable=False),
    sa.Column('first_month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('prepaid_months', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('free_months', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('monthly_amount', sa.Numeric(12, 2), nullable=False),
    sa.Column('required_amount', sa.Numeric(12, 2), nullable=False),
    sa.Column('earmarked_amount', sa.Numeric(12, 2), nullable=False),
    sa.Column('granted_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint('required_amount > 0 AND earmarked_amount >= required_amount',
                       name=op.f('ck_prepay_grant_deposit_covers')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_prepay_grant_estate_id_estate')),
    sa.ForeignKeyConstraint(['rule_id'], ['discount_rule.id'], name=op.f('fk_prepay_grant_rule_id_discount_rule')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_prepay_grant_unit_id_unit')),
    sa.ForeignKeyConstraint(['receipt_id'], ['receipt.id'], name=op.f('fk_prepay_grant_receipt_id_receipt')),
    sa.ForeignKeyConstraint(['granted_by'], ['user.id'], name=op.f('fk_prepay_grant_granted_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prepay_grant')),
    sa.UniqueConstraint('rule_id', 'unit_id', name='uq_prepay_grant_rule_unit'),
    sa.UniqueConstraint('receipt_id', name=op.f('uq_prepay_grant_receipt_id')),
    )
    op.create_index(op.f('ix_prepay_grant_estate_id'), 'prepay_grant', ['estate_id'], unique=False)
    op.create_index(op.f('ix_prepay_grant_rule_id'), 'prepay_grant', ['rule_id'], unique=False)
    op.create_index(op.f('ix_prepay_grant_unit_id'), 'prepay_grant', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_table('prepay_grant')
    op.drop_constraint(op.f('ck_discount_rule_prepay_terms'), 'discount_rule', type_='check')
    op.drop_column('discount_rule', 'free_months')
    op.drop_column('discount_rule', 'prepay_months')
