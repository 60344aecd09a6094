"""charge cancellations: a paid charge's cancel asked and approved; correction entries on the account

Revision ID: 7b08ab9d338e
Revises: 2a06b5d5fa60
Create Date: 2026-12-07 23:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '7b08ab9d338e'
down_revision: str | Sequence[str] | None = '2a06b5d5fa60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
OLD_KINDS = "kind IN ('deposit', 'overpayment', 'deduction', 'refund', 'reversal')"
OLD_SIGN = "(kind IN ('deposit', 'overpayment')) = (amount > 0) OR kind = 'reversal'"
NEW_KINDS = "kind IN ('deposit', 'overpayment', 'deduction', 'refund', 'reversal', 'correction')"
NEW_SIGN = "(kind IN ('deposit', 'overpayment', 'correction')) = (amount > 0) OR kind = 'reversal'"
CORRECTION = "kind <> 'correction' OR (earmark_fee_item_id IS NULL AND payment_id IS NOT NULL AND charge_id IS NOT NULL)"


def upgrade() -> None:
    op.create_table(
        'charge_cancellation',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('estate_id', sa.Uuid(), nullable=False),
        sa.Column('charge_id', sa.Uuid(), nullable=False),
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('reason', S(length=500), nullable=False),
        sa.Column('amount_paid', sa.Numeric(12, 2), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('requested_by', sa.Uuid(), nullable=True),
        sa.Column('decided_by', sa.Uuid(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', S(length=500), nullable=False),
        sa.CheckConstraint('amount_paid > 0', name=op.f('ck_charge_cancellation_amount_paid_positive')),
        sa.CheckConstraint("status IN ('requested', 'approved', 'rejected', 'withdrawn')",
                           name=op.f('ck_charge_cancellation_status_known')),
        sa.CheckConstraint("status = 'requested' OR decided_at IS NOT NULL",
                           name=op.f('ck_charge_cancellation_decided_when_closed')),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_charge_cancellation_estate_id_estate')),
        sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_charge_cancellation_charge_id_charge')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_charge_cancellation_unit_id_unit')),
        sa.ForeignKeyConstraint(['requested_by'], ['user.id'], name=op.f('fk_charge_cancellation_requested_by_user')),
        sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_charge_cancellation_decided_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_charge_cancellation')),
    )
    op.create_index(op.f('ix_charge_cancellation_estate_id'), 'charge_cancellation', ['estate_id'], unique=False)
    op.create_index(op.f('ix_charge_cancellation_charge_id'), 'charge_cancellation', ['charge_id'], unique=False)
    op.create_index('ix_charge_cancellation_estate_status', 'charge_cancellation', ['estate_id', 'status', 'created_at'],
                    unique=False)
    op.create_index('uq_charge_cancellation_pending', 'charge_cancellation', ['charge_id'], unique=True,
                    postgresql_where=sa.text("status = 'requested'"))
    op.drop_constraint(op.f('ck_account_entry_kind_known'), 'account_entry', type_='check')
    op.drop_constraint(op.f('ck_account_entry_sign_of_kind'), 'account_entry', type_='check')
    op.create_check_constraint(op.f('ck_account_entry_kind_known'), 'account_entry', NEW_KINDS)
    op.create_check_constraint(op.f('ck_account_entry_sign_of_kind'), 'account_entry', NEW_SIGN)
    op.create_check_constraint(op.f('ck_account_entry_correction_names_its_payment'), 'account_entry', CORRECTION)


def downgrade() -> None:
    op.drop_constraint(op.f('ck_account_entry_correction_names_its_payment'), 'account_entry', type_='check')
    op.drop_constraint(op.f('ck_account_entry_sign_of_kind'), 'account_entry', type_='check')
    op.drop_constraint(op.f('ck_account_entry_kind_known'), 'account_entry', type_='check')
    op.create_check_constraint(op.f('ck_account_entry_kind_known'), 'account_entry', OLD_KINDS)
    op.create_check_constraint(op.f('ck_account_entry_sign_of_kind'), 'account_entry', OLD_SIGN)
    op.drop_index('uq_charge_cancellation_pending', table_name='charge_cancellation')
    op.drop_index('ix_charge_cancellation_estate_status', table_name='charge_cancellation')
    op.drop_index(op.f('ix_charge_cancellation_charge_id'), table_name='charge_cancellation')
    op.drop_index(op.f('ix_charge_cancellation_estate_id'), table_name='charge_cancellation')
    op.drop_table('charge_cancellation')
