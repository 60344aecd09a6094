"""Waivers and discounts (减免) on charges, and discount rules over a set of units (issue 17).

A waiver is a request and, once approved, the ledger line that takes its amount off what the
charge owes (`Charge.amount_waived`, moved by the charge's own `waive` verb in the same flush);
the charge's billed amount is never edited. A receptionist requests, a supervisor approves
(finance above PROPDESK_WAIVER_FINANCE_ABOVE), never the requester; each step keeps its reason.

A discount rule (amount, percentage or vacant unit over a fee item and a set of units, for a
range of months) is approved the same way once; applying it to a month makes approved waiver
lines (rule_id set) for the matching charges, at most one per rule and charge. A prepay rule
(预交N个月送M个月) reaches a unit only through a grant (PrepayGrant): see waivers/prepay.py.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.calendar import estate_time
from app.domain.errors import Forbidden, Invalid
from app.domain.fees.billing.rules import round_money
from app.domain.fees.model import Charge
from app.domain.transitions import TransitionTable

HUNDRED = Decimal("100")


class WaiverKind(StrEnum):
    amount = "amount"  # value: yuan off
    percentage = "percentage"  # value: percent of the charge's billed amount off (10 = 10%)


class RuleKind(StrEnum):
    amount = "amount"  # value: yuan off each matching charge
    percentage = "percentage"  # value: percent off each matching charge
    vacant_unit = "vacant_unit"  # value: percent off the charges of units vacant when the rule is applied
    prepay_months = "prepay_months"  # 预交N个月送M个月: value 100, the M months after N prepaid ones waived in full


class WaiverState(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    reversed = "reversed"  # approved in error: the amount is owed again, the line stays


# Requests and rules share the words of the office's approval: asked, then decided once.
WAIVER_TRANSITIONS: TransitionTable[WaiverState] = TransitionTable("waiver", {
    (WaiverState.requested, "approve"): WaiverState.approved,
    (WaiverState.requested, "reject"): WaiverState.rejected,
    (WaiverState.requested, "withdraw"): WaiverState.withdrawn,
    (WaiverState.approved, "reverse"): WaiverState.reversed,
})

RULE_TRANSITIONS: TransitionTable[WaiverState] = TransitionTable("discount_rule", {
    (WaiverState.requested, "approve"): WaiverState.approved,
    (WaiverState.requested, "reject"): WaiverState.rejected,
    (WaiverState.requested, "withdraw"): WaiverState.withdrawn,
})


class DecisionNeedsReason(Invalid):
    title = "Rejecting, withdrawing or reversing needs a reason"
    title_zh = "驳回、撤回或撤销减免须注明原因"


class SelfApproval(Forbidden):
    title = "The person who asked for a waiver may not approve it"
    title_zh = "减免申请人不能自己审批"


def waiver_amount(*, kind: WaiverKind | RuleKind, value: Decimal, billed: Decimal) -> Decimal:
    """What a waiver takes off: the amount itself, or a percent of the billed amount, to the fen, half up."""
    if kind in (WaiverKind.amount, RuleKind.amount):
        return round_money(value)
    return round_money(billed * value / HUNDRED)


def _reasoned(table: TransitionTable[WaiverState], current: str, action: str, reason: str) -> WaiverState:
    """The next state of a move that must say why (reject, withdraw, reverse)."""
    status = table.next_state(WaiverState(current), action)
    if not reason.strip():
        raise DecisionNeedsReason(field="reason")
    return status


def _decide(row: Any, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
    row.decided_by, row.decided_at, row.decision_reason = by, at, reason


class Waiver(EstateScoped, table=True):
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("value > 0 AND (kind <> 'percentage' OR value <= 100)", name="value_in_range"),
        CheckConstraint("status IN ('requested', 'approved', 'rejected', 'withdrawn', 'reversed')", name="status_known"),
        # A rule waives a charge once, however often it is applied.
        Index("uq_waiver_rule_charge", "rule_id", "charge_id", unique=True, postgresql_where=text("rule_id IS NOT NULL")),
        Index("ix_waiver_estate_status", "estate_id", "status", "created_at"),
    )

    charge_id: uuid.UUID = Field(foreign_key="charge.id", index=True)
    unit_id: uuid.UUID = Field(foreign_key="unit.id")
    kind: WaiverKind = Field(sa_type=String(20))
    value: Decimal = Field(sa_type=Numeric(12, 2))
    amount: Decimal = Field(sa_type=Numeric(12, 2))  # computed when asked; checked against the outstanding at approval
    reason: str = Field(max_length=500)  # 空置房优惠, 业主投诉维修延误补偿
    status: WaiverState = Field(default=WaiverState.requested, sa_type=String(20))
    requested_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    decision_reason: str = Field(default="", max_length=500)
    rule_id: uuid.UUID | None = Field(default=None, foreign_key="discount_rule.id")

    transitions: ClassVar[TransitionTable[WaiverState]] = WAIVER_TRANSITIONS

    def approve(self, *, charge: Charge, by: uuid.UUID | None, at: datetime, reason: str = "") -> None:
        """Approved, the amount comes off the charge in the same flush (WaiverOverOutstanding if it no longer fits)."""
        status = WAIVER_TRANSITIONS.next_state(WaiverState(self.status), "approve")
        if by is not None and by == self.requested_by:
            raise SelfApproval(waiver_id=str(self.id))
        charge.waive(amount=self.amount)
        self.status = status
        _decide(self, by=by, at=at, reason=reason)

    def reject(self, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        self.status = _reasoned(WAIVER_TRANSITIONS, self.status, "reject", reason)
        _decide(self, by=by, at=at, reason=reason)

    def withdraw(self, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        self.status = _reasoned(WAIVER_TRANSITIONS, self.status, "withdraw", reason)
        _decide(self, by=by, at=at, reason=reason)

    def reverse(self, *, charge: Charge, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        """Approved in error: the amount is owed again; the line stays, marked reversed."""
        status = _reasoned(WAIVER_TRANSITIONS, self.status, "reverse", reason)
        charge.unwaive(amount=self.amount)
        self.status = status
        _decide(self, by=by, at=at, reason=reason)


class DiscountRule(EstateScoped, table=True):
    __tablename__ = "discount_rule"
    __table_args__ = (
        CheckConstraint("value > 0 AND (kind = 'amount' OR value <= 100)", name="value_in_range"),
        CheckConstraint("to_month IS NULL OR to_month >= from_month", name="months_in_order"),
        CheckConstraint("unit_ids IS NULL OR building_id IS NULL", name="one_unit_set"),
        CheckConstraint("status IN ('requested', 'approved', 'rejected', 'withdrawn')", name="status_known"),
        # A prepay rule has both terms, in bounds (PREPAY_MAX, FREE_MAX); no other rule has either.
        CheckConstraint("(kind = 'prepay_months') = (prepay_months IS NOT NULL AND free_months IS NOT NULL) "
                        "AND (kind = 'prepay_months' OR (prepay_months IS NULL AND free_months IS NULL)) "
                        "AND (prepay_months IS NULL OR prepay_months BETWEEN 1 AND 36) "
                        "AND (free_months IS NULL OR free_months BETWEEN 1 AND LEAST(12, prepay_months))",
                        name="prepay_terms"),
    )

    fee_item_id: uuid.UUID = Field(foreign_key="fee_item.id", index=True)
    kind: RuleKind = Field(sa_type=String(20))
    value: Decimal = Field(sa_type=Numeric(12, 2))
    # The units it covers: these, or a building's, or (both null) every unit of the estate.
    unit_ids: list[str] | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True))
    building_id: uuid.UUID | None = Field(default=None, foreign_key="building.id")
    from_month: str = Field(max_length=7)
    to_month: str | None = Field(default=None, max_length=7)
    reason: str = Field(max_length=500)  # as the bill prints it: 空置房优惠
    status: WaiverState = Field(default=WaiverState.requested, sa_type=String(20))
    requested_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    decision_reason: str = Field(default="", max_length=500)
    prepay_months: int | None = None  # N: months paid in advance (prepay_months rules only)
    free_months: int | None = None  # M: the months after them, waived in full

    transitions: ClassVar[TransitionTable[WaiverState]] = RULE_TRANSITIONS

    def covers(self, month: str) -> bool:
        return self.from_month <= month and (self.to_month is None or month <= self.to_month)

    def approve(self, *, by: uuid.UUID | None, at: datetime, reason: str = "") -> None:
        status = RULE_TRANSITIONS.next_state(WaiverState(self.status), "approve")
        if by is not None and by == self.requested_by:
            raise SelfApproval(rule_id=str(self.id))
        self.status = status
        _decide(self, by=by, at=at, reason=reason)

    def reject(self, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        self.status = _reasoned(RULE_TRANSITIONS, self.status, "reject", reason)
        _decide(self, by=by, at=at, reason=reason)

    def withdraw(self, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        self.status = _reasoned(RULE_TRANSITIONS, self.status, "withdraw", reason)
        _decide(self, by=by, at=at, reason=reason)


# --- prepay N months, get M free (预交N个月送M个月) ------------------------------------------

PREPAY_MAX = 36  # three years ahead is as far as an office takes money for
FREE_MAX = 12
AHEAD_MAX = 12  # the first prepaid month is at most a year after the deposit


@dataclass(frozen=True, kw_only=True)
class PrepayTerms:
    prepaid: list[str]  # the N months the deposit pays, first_month on
    free: list[str]  # the M months after them, waived in full
    monthly: Decimal
    required: Decimal  # N × monthly: the least earmarked deposit that earns the free months


def prepay_terms(*, first_month: str, prepay_months: int, free_months: int, monthly: Decimal) -> PrepayTerms:
    """The months a prepayment pays and the months it earns, and what it must be (pure)."""
    first = estate_time.month_first(first_month)
    months = [estate_time.month_key(estate_time.add_months(first, i)) for i in range(prepay_months + free_months)]
    return PrepayTerms(prepaid=months[:prepay_months], free=months[prepay_months:], monthly=round_money(monthly),
                       required=round_money(monthly) * prepay_months)


def months_apart(earlier: str, later: str) -> int:
    """How many months `later` is after `earlier` (negative when before) (pure)."""
    a, b = estate_time.month_first(earlier), estate_time.month_first(later)
    return (b.year - a.year) * 12 + b.month - a.month


class PrepayGrant(EstateScoped, table=True):
    """A prepay rule granted to one unit at the desk, against the deposit that paid N months ahead.

    The free months are fixed when granted; applying the rule to a month waives the charges of
    the units granted that month (rules.py). One grant per rule and unit, one per deposit."""

    __tablename__ = "prepay_grant"
    __table_args__ = (
        UniqueConstraint("rule_id", "unit_id", name="uq_prepay_grant_rule_unit"),
        CheckConstraint("required_amount > 0 AND earmarked_amount >= required_amount", name="deposit_covers"),
    )

    rule_id: uuid.UUID = Field(foreign_key="discount_rule.id", index=True)
    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    receipt_id: uuid.UUID = Field(foreign_key="receipt.id", unique=True)
    first_month: str = Field(max_length=7)
    prepaid_months: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    free_months: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    monthly_amount: Decimal = Field(sa_type=Numeric(12, 2))
    required_amount: Decimal = Field(sa_type=Numeric(12, 2))
    earmarked_amount: Decimal = Field(sa_type=Numeric(12, 2))  # what the deposit set aside for the rule's item
    granted_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
