"""late-fee rules per estate, versioned by date; fee items lose their late-fee columns

Each estate's items with a late-fee rate become one rule covering every item with the same
rate, grace days and cap, in force since 2000-01-01 (the item's rule applied whatever the date).
One rule is in force per day, so an estate whose items had different settings keeps the
setting shared by most items (ties: the first by code); the others' items accrue no late fee
from now on. Downgrade copies the latest rule back onto the items it covers.

Revision ID: 7a1c4e2b9d30
Revises: 3d5e7f9a1b2c
Create Date: 2026-12-04 15:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '7a1c4e2b9d30'
down_revision: str | Sequence[str] | None = '3d5e7f9a1b2c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIGRATE_RULES = """
INSERT INTO late_fee_rule (id, created_at, estate_id, effective_from, daily_rate, grace_days, cap_share, fee_item_ids)
SELECT gen_random_uuid(), now(), estate_id, DATE '2000-01-01', rate, grace, cap, ids FROM (
    SELECT estate_id, late_fee_daily_rate AS rate, late_fee_grace_days AS grace, late_fee_cap_share AS cap,
           array_agg(id ORDER BY code) AS ids,
           row_number() OVER (PARTITION BY estate_id ORDER BY count(*) DESC, min(code)) AS pick
    FROM fee_item WHERE late_fee_daily_rate > 0
    GROUP BY estate_id, late_fee_daily_rate, late_fee_grace_days, late_fee_cap_share
) AS settings WHERE pick = 1
"""

RULES_BACK = """
UPDATE fee_item SET late_fee_daily_rate = r.daily_rate, late_fee_grace_days = r.grace_days, late_fee_cap_share = r.cap_share
FROM (SELECT DISTINCT ON (estate_id) * FROM late_fee_rule ORDER BY estate_id, effective_from DESC) AS r
WHERE fee_item.estate_id = r.estate_id AND fee_item.id = ANY(r.fee_item_ids)
"""


def upgrade() -> None:
    op.create_table('late_fee_rule',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('daily_rate', sa.Numeric(precision=8, scale=6), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('cap_share', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('fee_item_ids', sa.ARRAY(sa.Uuid()), nullable=False),
    sa.CheckConstraint('daily_rate >= 0 AND daily_rate <= 1', name=op.f('ck_late_fee_rule_daily_rate_share')),
    sa.CheckConstraint('grace_days >= 0', name=op.f('ck_late_fee_rule_grace_days_not_negative')),
    sa.CheckConstraint('cap_share IS NULL OR (cap_share >= 0 AND cap_share <= 1)', name=op.f('ck_late_fee_rule_cap_share_share')),
    sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_late_fee_rule_estate_id_estate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_late_fee_rule')),
    sa.UniqueConstraint('estate_id', 'effective_from', name=op.f('uq_late_fee_rule_estate_id_effective_from'))
    )
    op.create_index(op.f('ix_late_fee_rule_estate_id'), 'late_fee_rule', ['estate_id'], unique=False)
    op.execute(MIGRATE_RULES)
    op.drop_constraint(op.f('ck_fee_item_late_fee_rate_not_negative'), 'fee_item', type_='check')
    for column in ('late_fee_daily_rate', 'late_fee_grace_days', 'late_fee_cap_share'):
        op.drop_column('fee_item', column)


def downgrade() -> None:
    op.add_column('fee_item', sa.Column('late_fee_daily_rate', sa.Numeric(precision=8, scale=6), nullable=True))
    op.add_column('fee_item', sa.Column('late_fee_grace_days', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('fee_item', sa.Column('late_fee_cap_share', sa.Numeric(precision=5, scale=4), nullable=True))
    op.alter_column('fee_item', 'late_fee_grace_days', server_default=None)
    op.create_check_constraint(op.f('ck_fee_item_late_fee_rate_not_negative'), 'fee_item',
                               'late_fee_daily_rate IS NULL OR late_fee_daily_rate >= 0')
    op.execute(RULES_BACK)
    op.drop_index(op.f('ix_late_fee_rule_estate_id'), table_name='late_fee_rule')
    op.drop_table('late_fee_rule')
