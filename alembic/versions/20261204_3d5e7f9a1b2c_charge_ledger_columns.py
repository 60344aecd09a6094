"""a charge's waived amount, state, late-fee and correction links

Revision ID: 3d5e7f9a1b2c
Revises: eaa29a3e1ab7
Create Date: 2026-12-04 14:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '3d5e7f9a1b2c'
down_revision: str | Sequence[str] | None = 'eaa29a3e1ab7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_CHARGE = "state = 'open' AND amount_paid + amount_waived < amount"


def upgrade() -> None:
    op.add_column('charge', sa.Column('amount_waived', sa.Numeric(12, 2), nullable=False, server_default='0'))
    op.add_column('charge', sa.Column('state', sa.String(20), nullable=False, server_default='open'))
    op.add_column('charge', sa.Column('late_fee_of', sa.Uuid(), nullable=True))
    op.add_column('charge', sa.Column('replaces_id', sa.Uuid(), nullable=True))
    op.add_column('charge', sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    op.add_column('charge', sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(op.f('fk_charge_late_fee_of_charge'), 'charge', 'charge', ['late_fee_of'], ['id'])
    op.create_foreign_key(op.f('fk_charge_replaces_id_charge'), 'charge', 'charge', ['replaces_id'], ['id'])
    op.create_index(op.f('ix_charge_late_fee_of'), 'charge', ['late_fee_of'])
    op.create_check_constraint(op.f('ck_charge_waived_within_amount'), 'charge',
                               'amount_waived >= 0 AND amount_paid + amount_waived <= amount')
    op.create_check_constraint(op.f('ck_charge_state_known'), 'charge', "state IN ('open', 'cancelled')")
    op.drop_index('ix_charge_estate_open', table_name='charge')
    op.create_index('ix_charge_estate_open', 'charge', ['estate_id', 'due_date'], postgresql_where=sa.text(OPEN_CHARGE))


def downgrade() -> None:
    op.drop_index('ix_charge_estate_open', table_name='charge')
    op.create_index('ix_charge_estate_open', 'charge', ['estate_id', 'due_date'],
                    postgresql_where=sa.text('amount_paid < amount'))
    op.drop_constraint(op.f('ck_charge_state_known'), 'charge', type_='check')
    op.drop_constraint(op.f('ck_charge_waived_within_amount'), 'charge', type_='check')
    op.drop_index(op.f('ix_charge_late_fee_of'), table_name='charge')
    op.drop_constraint(op.f('fk_charge_replaces_id_charge'), 'charge', type_='foreignkey')
    op.drop_constraint(op.f('fk_charge_late_fee_of_charge'), 'charge', type_='foreignkey')
    for column in ('cancelled_at', 'cancel_reason', 'replaces_id', 'late_fee_of', 'state', 'amount_waived'):
        op.drop_column('charge', column)
