"""prepaid accounts: the append-only account ledger, its balances, refunds awaiting approval

Revision ID: 9d2f6b3a8c15
Revises: 7c1e2a9b4d60
Create Date: 2026-12-04 15:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = '9d2f6b3a8c15'
down_revision: str | Sequence[str] | None = '7c1e2a9b4d60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
# As app/domain/fees/prepaid/model.py creates them; written out so the revision stays as it ran.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION account_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'account_entry is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER account_entry_append_only BEFORE UPDATE OR DELETE ON account_entry
FOR EACH STATEMENT EXECUTE FUNCTION account_entry_append_only()
"""

# The credit of the payments and the refunds made before this revision, as the ledger's first
# entries: an overpayment on a receipt not voided, a refund on a refund document not voided.
BACKFILL = [
    "INSERT INTO account_entry (id, created_at, estate_id, unit_id, kind, amount, at, payment_id) "
    "SELECT gen_random_uuid(), now(), p.estate_id, p.unit_id, 'overpayment', p.credit, p.received_at, p.id "
    "FROM payment p JOIN receipt r ON r.payment_id = p.id WHERE r.status = 'issued' AND p.credit > 0",
    "INSERT INTO account_entry (id, created_at, estate_id, unit_id, kind, amount, at, refund_id) "
    "SELECT gen_random_uuid(), now(), f.estate_id, f.unit_id, 'refund', -f.amount, f.refunded_at, f.id "
    "FROM refund f JOIN receipt r ON r.refund_id = f.id WHERE r.status = 'issued'",
    "INSERT INTO account_balance (unit_id, earmark_key, estate_id, balance) "
    "SELECT unit_id, '00000000-0000-0000-0000-000000000000', estate_id, sum(amount) FROM account_entry "
    "GROUP BY unit_id, estate_id",
]


def upgrade() -> None:
    op.create_table(
        'account_entry',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('estate_id', sa.Uuid(), nullable=False),
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('earmark_fee_item_id', sa.Uuid(), nullable=True),
        sa.Column('amount', sa.Numeric(12, 2), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('payment_id', sa.Uuid(), nullable=True),
        sa.Column('refund_id', sa.Uuid(), nullable=True),
        sa.Column('charge_id', sa.Uuid(), nullable=True),
        sa.Column('reverses_id', sa.Uuid(), nullable=True),
        sa.CheckConstraint('amount <> 0', name=op.f('ck_account_entry_amount_not_zero')),
        sa.CheckConstraint("kind IN ('deposit', 'overpayment', 'deduction', 'refund', 'reversal')",
                           name=op.f('ck_account_entry_kind_known')),
        sa.CheckConstraint("(kind IN ('deposit', 'overpayment')) = (amount > 0) OR kind = 'reversal'",
                           name=op.f('ck_account_entry_sign_of_kind')),
        sa.CheckConstraint("kind <> 'overpayment' OR earmark_fee_item_id IS NULL",
                           name=op.f('ck_account_entry_overpayment_not_earmarked')),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_account_entry_estate_id_estate')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_account_entry_unit_id_unit')),
        sa.ForeignKeyConstraint(['earmark_fee_item_id'], ['fee_item.id'],
                                name=op.f('fk_account_entry_earmark_fee_item_id_fee_item')),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_account_entry_payment_id_payment')),
        sa.ForeignKeyConstraint(['refund_id'], ['refund.id'], name=op.f('fk_account_entry_refund_id_refund')),
        sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_account_entry_charge_id_charge')),
        sa.ForeignKeyConstraint(['reverses_id'], ['account_entry.id'], name=op.f('fk_account_entry_reverses_id_account_entry')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_entry')),
        sa.UniqueConstraint('reverses_id', name=op.f('uq_account_entry_reverses_id')),
    )
    op.create_index(op.f('ix_account_entry_estate_id'), 'account_entry', ['estate_id'])
    op.create_index(op.f('ix_account_entry_payment_id'), 'account_entry', ['payment_id'])
    op.create_index(op.f('ix_account_entry_refund_id'), 'account_entry', ['refund_id'])
    op.create_index('ix_account_entry_unit_at', 'account_entry', ['unit_id', 'at'])
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(APPEND_ONLY_TRIGGER)
    op.create_table(
        'account_balance',
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('earmark_key', sa.Uuid(), nullable=False),
        sa.Column('estate_id', sa.Uuid(), nullable=False),
        sa.Column('balance', sa.Numeric(12, 2), nullable=False),
        sa.CheckConstraint('balance >= 0', name=op.f('ck_account_balance_balance_not_negative')),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_account_balance_estate_id_estate')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_account_balance_unit_id_unit')),
        sa.PrimaryKeyConstraint('unit_id', 'earmark_key', name=op.f('pk_account_balance')),
    )
    op.create_index(op.f('ix_account_balance_estate_id'), 'account_balance', ['estate_id'])
    op.create_table(
        'account_refund',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('estate_id', sa.Uuid(), nullable=False),
        sa.Column('unit_id', sa.Uuid(), nullable=False),
        sa.Column('earmark_fee_item_id', sa.Uuid(), nullable=True),
        sa.Column('amount', sa.Numeric(12, 2), nullable=False),
        sa.Column('method', S(length=20), nullable=False),
        sa.Column('reference', S(length=100), nullable=False),
        sa.Column('reason', S(length=500), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('requested_by', sa.Uuid(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.Uuid(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', S(length=500), nullable=False),
        sa.Column('refund_id', sa.Uuid(), nullable=True),
        sa.CheckConstraint('amount > 0', name=op.f('ck_account_refund_amount_positive')),
        sa.CheckConstraint("status IN ('requested', 'approved', 'rejected')", name=op.f('ck_account_refund_status_known')),
        sa.CheckConstraint("status = 'requested' OR decided_by IS NOT NULL OR refund_id IS NOT NULL",
                           name=op.f('ck_account_refund_decided_by_someone')),
        sa.ForeignKeyConstraint(['estate_id'], ['estate.id'], name=op.f('fk_account_refund_estate_id_estate')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_account_refund_unit_id_unit')),
        sa.ForeignKeyConstraint(['earmark_fee_item_id'], ['fee_item.id'],
                                name=op.f('fk_account_refund_earmark_fee_item_id_fee_item')),
        sa.ForeignKeyConstraint(['requested_by'], ['user.id'], name=op.f('fk_account_refund_requested_by_user')),
        sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_account_refund_decided_by_user')),
        sa.ForeignKeyConstraint(['refund_id'], ['refund.id'], name=op.f('fk_account_refund_refund_id_refund')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_refund')),
        sa.UniqueConstraint('refund_id', name=op.f('uq_account_refund_refund_id')),
    )
    op.create_index(op.f('ix_account_refund_estate_id'), 'account_refund', ['estate_id'])
    op.create_index(op.f('ix_account_refund_unit_id'), 'account_refund', ['unit_id'])
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('account_refund')
    op.drop_table('account_balance')
    op.drop_table('account_entry')
    op.execute('DROP FUNCTION IF EXISTS account_entry_append_only()')
