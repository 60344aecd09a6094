"""Cancelling a charge money was paid on: a request, approved by another (issue 17).

A paid charge is not cancelled at once: its money would settle nothing. The request keeps who
asked, why, and what was paid on the charge and its late fees then; the approver's approval
moves that money (each live allocation reversed) into the unit's prepaid account and cancels
the charge in one transaction (corrections/cancellations.py). Never by the one who asked.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, text
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Conflict, Forbidden, Invalid
from app.domain.fees.model import Charge, ChargeState
from app.domain.transitions import TransitionTable


class CancellationState(StrEnum):
    requested = "requested"
    approved = "approved"  # the money is on the unit's account, the charge cancelled
    rejected = "rejected"
    withdrawn = "withdrawn"


CANCELLATION_TRANSITIONS: TransitionTable[CancellationState] = TransitionTable("charge_cancellation", {
    (CancellationState.requested, "approve"): CancellationState.approved,
    (CancellationState.requested, "reject"): CancellationState.rejected,
    (CancellationState.requested, "withdraw"): CancellationState.withdrawn,
})


class CancellationDecisionNeedsReason(Invalid):
    title = "Rejecting or withdrawing a cancellation request needs a reason"
    title_zh = "驳回或撤回费用取消申请须注明原因"


class OwnCancellationApproved(Forbidden):
    title = "The person who asked to cancel a paid charge may not approve it; another person does"
    title_zh = "申请取消已交费用的人不能自己批准，须由他人审批"


class CancellationPending(Conflict):
    title = "A request to cancel this charge is waiting for approval already; approve, reject or withdraw it"
    title_zh = "该笔费用已有待审批的取消申请；请先批准、驳回或撤回"


class ChargeChangedSinceRequest(Conflict):
    """What was asked no longer holds: the charge was cancelled, or money was paid or voided since."""

    title = "The charge has changed since the cancellation was asked for; reject this request and ask again"
    title_zh = "提出取消申请后该笔费用已有变动；请驳回此申请后重新申请"


class ChargeCancellation(EstateScoped, table=True):
    __tablename__ = "charge_cancellation"
    __table_args__ = (
        CheckConstraint("amount_paid > 0", name="amount_paid_positive"),
        CheckConstraint("status IN ('requested', 'approved', 'rejected', 'withdrawn')", name="status_known"),
        CheckConstraint("status = 'requested' OR decided_at IS NOT NULL", name="decided_when_closed"),
        # One request waits per charge: a second asks the same question twice.
        Index("uq_charge_cancellation_pending", "charge_id", unique=True, postgresql_where=text("status = 'requested'")),
        Index("ix_charge_cancellation_estate_status", "estate_id", "status", "created_at"),
    )

    charge_id: uuid.UUID = Field(foreign_key="charge.id", index=True)
    unit_id: uuid.UUID = Field(foreign_key="unit.id")
    reason: str = Field(max_length=500)  # why the charge was wrong: becomes its cancel reason
    # Paid on the charge and its open late fees when asked: what the approval moves to the account.
    amount_paid: Decimal = Field(sa_type=Numeric(12, 2))
    status: CancellationState = Field(default=CancellationState.requested, sa_type=String(20))
    requested_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    decision_reason: str = Field(default="", max_length=500)

    transitions: ClassVar[TransitionTable[CancellationState]] = CANCELLATION_TRANSITIONS

    def approve(self, *, charge: Charge, paid_now: Decimal, by: uuid.UUID | None, at: datetime, reason: str = "") -> None:
        """Approved only as asked: the charge still open with the same money on it (and its late fees)."""
        status = CANCELLATION_TRANSITIONS.next_state(CancellationState(self.status), "approve")
        if by is not None and by == self.requested_by:
            raise OwnCancellationApproved(cancellation_id=str(self.id))
        if ChargeState(charge.state) is not ChargeState.open or paid_now != self.amount_paid:
            raise ChargeChangedSinceRequest(charge_id=str(charge.id), state=str(charge.state), paid=str(paid_now),
                                            asked_paid=str(self.amount_paid))
        self.status, self.decided_by, self.decided_at, self.decision_reason = status, by, at, reason

    def _close(self, action: str, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        status = CANCELLATION_TRANSITIONS.next_state(CancellationState(self.status), action)
        if not reason.strip():
            raise CancellationDecisionNeedsReason(field="reason")
        self.status, self.decided_by, self.decided_at, self.decision_reason = status, by, at, reason

    def reject(self, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        self._close("reject", by=by, at=at, reason=reason)

    def withdraw(self, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        self._close("withdraw", by=by, at=at, reason=reason)
