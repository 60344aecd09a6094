"""Fee items, their prices, and the charges on a unit's account (§5.2, §5.8, §7.3.13).

A charge is money a unit owes for one item and one month (or once). It is never rewritten:
its amount and the basis it was computed from stay as they were billed; payments settle
it through allocations, and `amount_paid` moves only by the charge's own verbs
(`record_payment`, `reverse_payment`), in step with the allocations.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Column, Date, DateTime, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Conflict, Invalid
from app.domain.transitions import TransitionTable
from app.domain.versions import Versioned


class FeeKind(StrEnum):
    per_area = "per_area"  # rate × m² × months: the property management fee
    fixed = "fixed"  # per unit per month: garbage, a parking space
    metered = "metered"  # reading × price: water, electricity
    one_off = "one_off"  # repair charges from chargeable vouchers, deposits


class VacantRule(StrEnum):
    charge = "charge"
    discount = "discount"  # FeeItem.vacant_discount off the amount
    skip = "skip"


class FeeItem(EstateScoped, Versioned, table=True):
    __tablename__ = "fee_item"
    __table_args__ = (
        UniqueConstraint("estate_id", "code"),
        CheckConstraint("vacant_discount >= 0 AND vacant_discount <= 1", name="vacant_discount_share"),
        CheckConstraint("due_day BETWEEN 1 AND 28", name="due_day_in_month"),
    )

    code: str = Field(max_length=40)
    name: str = Field(max_length=100)  # 物业管理费, 垃圾清运费, 车位管理费, 水费
    kind: FeeKind = Field(sa_type=String(20))
    unit_label: str = Field(default="", max_length=20)  # 元/㎡·月, 元/月, 元/吨, 元/度
    # per_area and fixed items bill every private unit; others only units subscribed to them.
    applies_to_all: bool = True
    vacant_rule: VacantRule = Field(default=VacantRule.charge, sa_type=String(20))
    vacant_discount: Decimal = Field(default=Decimal("0"), sa_type=Numeric(5, 4))
    due_day: int = 1  # a month's charge falls due on this day of that month
    # Late fees are the estate's rule's (fees/late_fees/model.py LateFeeRule), not the item's.
    active: bool = True


class FeePrice(EstateScoped, table=True):
    """A price applies from its date on; a change never rewrites charges already billed."""

    __tablename__ = "fee_price"
    __table_args__ = (
        UniqueConstraint("fee_item_id", "effective_from"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    fee_item_id: uuid.UUID = Field(foreign_key="fee_item.id", index=True)
    effective_from: date = Field(sa_type=Date)
    unit_price: Decimal = Field(sa_type=Numeric(12, 4))


class ChargeSource(StrEnum):
    billing = "billing"  # the monthly billing run
    meter = "meter"  # a meter reading
    voucher = "voucher"  # a chargeable repair voucher
    manual = "manual"  # a deposit or other one-off entered at the desk
    late_fee = "late_fee"  # 滞纳金 posted on a charge paid late, or at month end (late_fee_of names it)
    shared_meter = "shared_meter"  # a unit's share of a building or estate meter (公摊)


class ChargeState(StrEnum):
    open = "open"  # owed, paid or waived: every charge the ledger counts
    cancelled = "cancelled"  # billed wrongly; kept, with its reason, and owes nothing (§ corrections)


# A wrong charge is never edited or deleted: it is cancelled with its reason, and the right
# one billed beside it (`replaces_id`).
CHARGE_TRANSITIONS: TransitionTable[ChargeState] = TransitionTable("charge", {
    (ChargeState.open, "cancel"): ChargeState.cancelled,
})


class CancelNeedsReason(Invalid):
    title = "Cancelling a charge needs a reason"
    title_zh = "取消费用须注明原因"


class ChargePaid(Conflict):
    """Money is on the charge: cancelling it would leave that money settling nothing.

    The last guard, not the way: a paid charge's cancel is asked for and approved
    (fees/corrections/cancellations.py), and the approval moves the money to the unit's
    prepaid account (each allocation reversed) before it cancels; or the receipt is voided first.
    """

    title = "Money is still allocated to this charge; its cancel is approved first, which moves the money to the account"
    title_zh = "该笔费用仍有已分配的款项；须先批准取消，款项将转入预存款账户"


class PaymentOverCharge(Conflict):
    title = "The payment is more than the charge's outstanding amount"
    title_zh = "收款金额超过该笔费用的未交金额"


class ReversalOverPaid(Conflict):
    title = "The reversal is more than was paid on the charge"
    title_zh = "冲正金额超过该笔费用的已交金额"


class WaiverOverOutstanding(Conflict):
    title = "The waiver is more than the charge still owes"
    title_zh = "减免金额超过该笔费用仍欠的金额"


class UnwaiveOverWaived(Conflict):
    title = "The reversal is more than was waived on the charge"
    title_zh = "撤销减免的金额超过该笔费用已减免的金额"


# The one definition of a charge still owed, in SQL; `Charge.outstanding` is the same in Python.
OPEN_CHARGE = "state = 'open' AND amount_paid + amount_waived < amount"
# The charges a month bills once per unit and item (the partial unique index's predicate).
BILLED_ONCE = "source IN ('billing', 'meter') AND state = 'open'"


class Charge(EstateScoped, table=True):
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_paid >= 0 AND amount_paid <= amount", name="paid_within_amount"),
        CheckConstraint("amount_waived >= 0 AND amount_paid + amount_waived <= amount", name="waived_within_amount"),
        CheckConstraint("state IN ('open', 'cancelled')", name="state_known"),
        # A month is billed once per unit and item, however often the run is repeated.
        # A cancelled charge steps aside, so its replacement can bill the same month.
        Index("uq_charge_unit_item_period", "unit_id", "fee_item_id", "period", unique=True,
              postgresql_where=text(BILLED_ONCE)),
        Index("uq_charge_source", "source", "source_id", unique=True, postgresql_where=text("source_id IS NOT NULL")),
        Index("ix_charge_estate_open", "estate_id", "due_date", postgresql_where=text(OPEN_CHARGE)),
        Index("ix_charge_unit_due", "unit_id", "due_date"),
        # The month-end report's charges of a month: by period, and one-offs (no period) by due date.
        Index("ix_charge_estate_period", "estate_id", "period"),
        Index("ix_charge_estate_one_off_due", "estate_id", "due_date", postgresql_where=text("period IS NULL")),
    )

    unit_id: uuid.UUID = Field(foreign_key="unit.id")
    fee_item_id: uuid.UUID = Field(foreign_key="fee_item.id", index=True)
    period: str | None = Field(default=None, max_length=7)  # 'YYYY-MM'; null for a one-off
    description: str = Field(max_length=200)  # 2026年11月物业管理费
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    amount_paid: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(12, 2))
    # Moved only by approved waivers (减免), each a ledger line of its own; the amount stays as billed.
    amount_waived: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(12, 2), sa_column_kwargs={"server_default": "0"})
    state: ChargeState = Field(default=ChargeState.open, sa_type=String(20), sa_column_kwargs={"server_default": "open"})
    due_date: date = Field(sa_type=Date)
    # How the amount was computed, for the bill explanation: rate, area, months, readings, discount.
    basis: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    source: ChargeSource = Field(sa_type=String(20))
    source_id: uuid.UUID | None = Field(default=None)  # the voucher, reading or billing run
    billing_run_id: uuid.UUID | None = Field(default=None, index=True)
    paid_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # when it was settled in full
    late_fee_of: uuid.UUID | None = Field(default=None, foreign_key="charge.id", index=True)  # the charge paid late
    replaces_id: uuid.UUID | None = Field(default=None, foreign_key="charge.id")  # the cancelled charge it corrects
    cancel_reason: str | None = Field(default=None, max_length=500)
    cancelled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    # The trail's names for the verbs, as the payments and receipts services first wrote them.
    audit_actions: ClassVar[dict[str, str]] = {"record_payment": "charge.pay", "reverse_payment": "charge.reopen"}
    transitions: ClassVar[TransitionTable[ChargeState]] = CHARGE_TRANSITIONS

    @property
    def status(self) -> ChargeState:
        """The charge's place in its transition table (the column is `state`)."""
        return ChargeState(self.state)

    def cancel(self, *, reason: str, at: datetime) -> None:
        """Cancelled with its reason: it stays on the account as billed, and owes nothing."""
        if not reason.strip():
            raise CancelNeedsReason(field="reason")
        state = CHARGE_TRANSITIONS.next_state(ChargeState(self.state), "cancel")
        if self.amount_paid > 0:
            raise ChargePaid(charge_id=str(self.id), paid=str(self.amount_paid))
        self.state, self.cancel_reason, self.cancelled_at = state, reason.strip(), at

    @classmethod
    def is_open(cls) -> Any:  # a SQL boolean expression
        """Owed still: the SQL twin of `outstanding > 0`, and the open-charges index's predicate."""
        return (cls.state == ChargeState.open) & (cls.amount_paid + cls.amount_waived < cls.amount)

    @classmethod
    def outstanding_sql(cls) -> Any:  # a SQL numeric expression, for open charges
        return cls.amount - cls.amount_paid - cls.amount_waived

    @property
    def outstanding(self) -> Decimal:
        if self.state == ChargeState.cancelled:
            return Decimal("0.00")
        return self.amount - self.amount_paid - self.amount_waived

    def record_payment(self, *, amount: Decimal, at: datetime) -> None:
        """A payment's part settles this much; settled in full, the charge is paid at `at`."""
        if not 0 < amount <= self.outstanding:
            raise PaymentOverCharge(charge_id=str(self.id), amount=str(amount), outstanding=str(self.outstanding))
        self.amount_paid += amount
        if self.outstanding == 0:  # paid in full, or the rest waived before
            self.paid_at = at

    def reverse_payment(self, *, amount: Decimal) -> None:
        """A voided payment's part is owed again; the charge is no longer paid in full."""
        if not 0 < amount <= self.amount_paid:
            raise ReversalOverPaid(charge_id=str(self.id), amount=str(amount), paid=str(self.amount_paid))
        self.amount_paid -= amount
        self.paid_at = None

    def waive(self, *, amount: Decimal) -> None:
        """An approved waiver (减免) takes this much off what is owed; the billed amount stays."""
        if not 0 < amount <= self.outstanding:
            raise WaiverOverOutstanding(charge_id=str(self.id), amount=str(amount), outstanding=str(self.outstanding))
        self.amount_waived += amount

    def unwaive(self, *, amount: Decimal) -> None:
        """A reversed waiver is owed again."""
        if not 0 < amount <= self.amount_waived:
            raise UnwaiveOverWaived(charge_id=str(self.id), amount=str(amount), waived=str(self.amount_waived))
        self.amount_waived -= amount


class UnitFeeItem(EstateScoped, Versioned, table=True):
    """A unit's subscription to an item that does not bill every unit (a parking space, a meter)."""

    __tablename__ = "unit_fee_item"
    __table_args__ = (
        UniqueConstraint("unit_id", "fee_item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("to_month IS NULL OR to_month >= from_month", name="months_in_order"),
    )

    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    fee_item_id: uuid.UUID = Field(foreign_key="fee_item.id", index=True)
    quantity: Decimal = Field(default=Decimal("1"), sa_type=Numeric(10, 2))  # two parking spaces: 2
    from_month: str = Field(max_length=7)  # 'YYYY-MM', first month billed
    to_month: str | None = Field(default=None, max_length=7)  # last month billed; null: until cancelled
    # A space taken or given up mid-month: the first and last day billed, inside from_month and
    # to_month; those months are prorated by days. Null: the whole month. The months still say
    # which months bill, so every reader of from/to_month stays right without knowing of days.
    starts_on: date | None = Field(default=None, sa_type=Date)
    ends_on: date | None = Field(default=None, sa_type=Date)


class MeterReading(EstateScoped, table=True):
    """One month's reading of a unit's meter; the metered charge is (current - previous) × price."""

    __tablename__ = "meter_reading"
    __table_args__ = (
        UniqueConstraint("unit_id", "fee_item_id", "period"),
        CheckConstraint("current >= previous", name="reading_not_backwards"),
        CheckConstraint("previous >= 0", name="reading_not_negative"),
    )

    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    fee_item_id: uuid.UUID = Field(foreign_key="fee_item.id", index=True)
    period: str = Field(max_length=7)  # 'YYYY-MM'
    previous: Decimal = Field(sa_type=Numeric(12, 2))
    current: Decimal = Field(sa_type=Numeric(12, 2))
    read_at: datetime = Field(sa_type=DateTime(timezone=True))
    read_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    charge_id: uuid.UUID | None = Field(default=None)  # null when nothing was used


class BillingRun(EstateScoped, table=True):
    """An estate's month, billed once: its charges carry billing_run_id."""

    __tablename__ = "billing_run"
    __table_args__ = (UniqueConstraint("estate_id", "month"),)

    month: str = Field(max_length=7)  # 'YYYY-MM'
    created_by: str = Field(max_length=100)  # a user's name or the job clock
    created_by_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    charges_created: int = 0
    total: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(14, 2))
