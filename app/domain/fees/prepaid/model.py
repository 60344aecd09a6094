"""A unit's prepaid account: an append-only ledger and its balances (预存款, issue 17).

Every movement is an `account_entry` (signed: money in is positive). The balance per unit and
earmark is kept in `account_balance` in the same transaction as the entry, and a CHECK keeps
it at or above zero: whatever the code does, the database never lets an account go negative.
A debit locks the balance row FOR UPDATE first, so two debits of the same money queue.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import DDL, CheckConstraint, DateTime, Index, Numeric, String, event
from sqlmodel import Field, SQLModel

from app.domain.base import EstateScoped
from app.domain.errors import Conflict, Forbidden, Invalid
from app.domain.transitions import TransitionTable

# The earmark key of unearmarked money: a balance row's key cannot be NULL.
NO_EARMARK = uuid.UUID(int=0)


class EntryKind(StrEnum):
    deposit = "deposit"  # money paid in at the desk (QS-D receipt)
    overpayment = "overpayment"  # a payment's left-over, never earmarked
    deduction = "deduction"  # settled a charge (QS-K document); negative
    refund = "refund"  # paid back (QS-R document); negative
    reversal = "reversal"  # undoes the entry `reverses_id` when its document is voided
    # What a payment had settled of a charge cancelled since (approved: corrections/): the receipt
    # stays valid, the money stays the unit's. payment_id and charge_id name both; never earmarked.
    correction = "correction"


KIND_NAMES = {EntryKind.deposit: "预存", EntryKind.overpayment: "多缴转存", EntryKind.deduction: "预存款抵扣",
              EntryKind.refund: "退款", EntryKind.reversal: "冲正",
              EntryKind.correction: "更正转存"}


class AccountEntry(EstateScoped, table=True):
    __tablename__ = "account_entry"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("kind IN ('deposit', 'overpayment', 'deduction', 'refund', 'reversal', 'correction')", name="kind_known"),
        CheckConstraint("(kind IN ('deposit', 'overpayment', 'correction')) = (amount > 0) OR kind = 'reversal'",
                        name="sign_of_kind"),
        CheckConstraint("kind <> 'overpayment' OR earmark_fee_item_id IS NULL", name="overpayment_not_earmarked"),
        CheckConstraint("kind <> 'correction' OR (earmark_fee_item_id IS NULL AND payment_id IS NOT NULL "
                        "AND charge_id IS NOT NULL)", name="correction_names_its_payment"),
        # A statement reads a unit's entries of a period.
        Index("ix_account_entry_unit_at", "unit_id", "at"),
    )

    unit_id: uuid.UUID = Field(foreign_key="unit.id")
    kind: EntryKind = Field(sa_type=String(20))
    earmark_fee_item_id: uuid.UUID | None = Field(default=None, foreign_key="fee_item.id")
    amount: Decimal = Field(sa_type=Numeric(12, 2))  # signed: deposits in, deductions and refunds out
    at: datetime = Field(sa_type=DateTime(timezone=True))
    payment_id: uuid.UUID | None = Field(default=None, foreign_key="payment.id", index=True)
    refund_id: uuid.UUID | None = Field(default=None, foreign_key="refund.id", index=True)
    charge_id: uuid.UUID | None = Field(default=None, foreign_key="charge.id")  # a deduction's charge
    reverses_id: uuid.UUID | None = Field(default=None, foreign_key="account_entry.id", unique=True)

    @property
    def earmark_key(self) -> uuid.UUID:
        return self.earmark_fee_item_id or NO_EARMARK


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
event.listen(AccountEntry.__table__, "after_create", DDL(APPEND_ONLY_FUNCTION))
event.listen(AccountEntry.__table__, "after_create", DDL(APPEND_ONLY_TRIGGER))


class AccountBalance(SQLModel, table=True):
    """The sum of a unit's entries per earmark (NO_EARMARK for free money), kept with each entry."""

    __tablename__ = "account_balance"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    unit_id: uuid.UUID = Field(foreign_key="unit.id", primary_key=True)
    earmark_key: uuid.UUID = Field(primary_key=True)
    estate_id: uuid.UUID = Field(foreign_key="estate.id", index=True)
    balance: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(12, 2))


class BalanceTooLow(Conflict):
    title = "The account's balance (for this earmark) is less than the amount"
    title_zh = "预存款账户（该指定项目）余额不足"


# --- refunds of the balance, approved above a set amount --------------------------------------

class RefundState(StrEnum):
    requested = "requested"  # above the approval amount: waits for someone else's approval
    approved = "approved"  # money paid back (a QS-R refund document)
    rejected = "rejected"


ACCOUNT_REFUND_TRANSITIONS: TransitionTable[RefundState] = TransitionTable("account_refund", {
    (RefundState.requested, "approve"): RefundState.approved,
    (RefundState.requested, "reject"): RefundState.rejected,
})


class OwnRefundApproved(Forbidden):
    title = "The one who asked for a refund may not approve or reject it; another person does"
    title_zh = "退款申请人不能自己批准或驳回，须由他人审批"


class DecisionNeedsReason(Invalid):
    title = "Approving or rejecting a refund needs a reason"
    title_zh = "批准或驳回退款须注明原因"


class AccountRefund(EstateScoped, table=True):
    __tablename__ = "account_refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('requested', 'approved', 'rejected')", name="status_known"),
        CheckConstraint("status = 'requested' OR decided_by IS NOT NULL OR refund_id IS NOT NULL", name="decided_by_someone"),
    )

    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    earmark_fee_item_id: uuid.UUID | None = Field(default=None, foreign_key="fee_item.id")
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    method: str = Field(max_length=20)
    reference: str = Field(default="", max_length=100)
    reason: str = Field(max_length=500)
    status: RefundState = Field(default=RefundState.requested, sa_type=String(20))
    requested_by: uuid.UUID = Field(foreign_key="user.id")
    requested_at: datetime = Field(sa_type=DateTime(timezone=True))
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    decision_reason: str = Field(default="", max_length=500)
    refund_id: uuid.UUID | None = Field(default=None, foreign_key="refund.id", unique=True)

    transitions: ClassVar[TransitionTable[RefundState]] = ACCOUNT_REFUND_TRANSITIONS

    def _decide(self, action: str, *, by: uuid.UUID, reason: str, at: datetime) -> None:
        state = ACCOUNT_REFUND_TRANSITIONS.next_state(RefundState(self.status), action)
        if by == self.requested_by:
            raise OwnRefundApproved(refund_id=str(self.id))
        if not reason.strip():
            raise DecisionNeedsReason(field="reason")
        self.status, self.decided_by, self.decided_at, self.decision_reason = state, by, at, reason

    def approve(self, *, by: uuid.UUID, reason: str, at: datetime) -> None:
        self._decide("approve", by=by, reason=reason, at=at)

    def reject(self, *, by: uuid.UUID, reason: str, at: datetime) -> None:
        self._decide("reject", by=by, reason=reason, at=at)

    def event_data(self, action: str) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "amount": self.amount}
