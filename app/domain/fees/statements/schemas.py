"""What clients get from the bill explanation (§7.3.13) and the arrears ageing: read-only answers."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from app.domain.fees.model import ChargeSource, ChargeState, FeeKind
from app.domain.fees.payments.model import PaymentMethod
from app.domain.fees.prepaid.schemas import AccountRead
from app.domain.fees.shared_meters.schemas import SharedShare
from app.domain.fees.waivers.schemas import WaiverOfLine

CENT = Decimal("0.01")
# Out: amounts always carry two places ("223.00").
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")]


# --- the bill --------------------------------------------------------------------------

class Computation(BaseModel):
    """How the charge's amount was reached, from what was stored when it was billed.

    Only the fields of its method are set: per_area (rate × area × months), fixed (rate ×
    quantity × months), metered ((current − previous) × rate), one_off (a voucher or an amount
    entered at the desk); `unknown` when the stored basis cannot be read back.
    """

    method: FeeKind | None = Field(description="null: the stored basis could not be read back")
    rate: str | None = Field(default=None, description="As the price list prints it: 2.50")
    rate_unit: str = Field(default="", description="元/㎡·月, 元/月, 元")
    area: str | None = Field(default=None, description="m², as billed")
    quantity: str | None = Field(default=None, description="Spaces subscribed, or the metered usage")
    months: int | None = None
    days: int | None = Field(default=None, description="Billed by days: the days of the month billed (move-in, move-out)")
    days_in_month: int | None = Field(default=None, description="Billed by days: the month's length; 17/30 of a month")
    previous: str | None = Field(default=None, description="Meter: the previous reading")
    current: str | None = Field(default=None, description="Meter: this reading")
    gross: Amount | None = Field(default=None, description="Before the vacant-unit discount")
    vacant_discount: str | None = Field(default=None, description="Share taken off a vacant unit: 0.5")
    discount: Amount | None = None
    work_order_id: uuid.UUID | None = Field(default=None, description="One-off repair charge: its work order")
    work_order_number: str | None = Field(default=None, description="One-off repair charge: its work order's number")
    voucher_id: uuid.UUID | None = None
    work_done: str | None = Field(default=None, description="One-off repair charge: what the voucher says was done")
    entered_by: str | None = Field(default=None, description="One-off charge entered at the desk: by whom")
    shared: SharedShare | None = Field(default=None, description="A shared meter's share (公摊): how it was split")
    amount: Amount


class LateFeeRead(BaseModel):
    """Would be posted if paid today: exactly the late fee a payment today posts on this charge.
    Late fees already posted are lines (charges) of their own."""

    amount: Amount = Field(description="Would be posted if paid today: accrued so far less `posted`")
    posted: Amount = Field(default=Decimal("0.00"), description="Late fees already posted on this charge (lines of their own)")
    as_of: date = Field(description="Estate-local today")
    days_past_due: int = Field(description="Days since the due date (0 or less: not yet due)")
    days_charged: int = Field(description="Days past the due date plus the grace days")
    daily_rate: str | None = Field(description="Share of the outstanding amount per day; null: the item has no late fee")
    grace_days: int
    cap_share: str | None = Field(description="The late fee is never more than this share of the charge")
    cap: Amount | None
    capped: bool = Field(description="True when the cap, not the daily rate, set the amount")
    explanation: str = Field(description="As read out: 滞纳金 223.00元 × 0.05%/天 × 12天 = 1.34元; empty when none is owed")


class PaymentOfLine(BaseModel):
    """One allocation of a payment to this charge, with the receipt that documents it."""

    receipt_id: uuid.UUID
    receipt_number: str
    paid_at: datetime
    method: PaymentMethod
    amount: Amount
    voided: bool = Field(description="The receipt was voided: this amount no longer counts")
    voided_at: datetime | None
    # A paid charge cancelled by approval keeps its receipt valid: saying 'voided' would send the
    # desk looking for a void that never happened, and the money for a refund it was never given.
    moved_to_account: bool = Field(default=False, description="The charge was cancelled since: this amount was moved to "
                                                              "the unit's prepaid account (更正转存); the receipt stays valid")


class BillLine(BaseModel):
    charge_id: uuid.UUID
    fee_item_id: uuid.UUID
    fee_item_name: str
    description: str
    period: str | None = Field(description="YYYY-MM; null for a one-off charge")
    due_date: date
    source: ChargeSource
    computation: Computation
    explanation: str = Field(description="The computation as the desk reads it out: 物业管理费 2.50元/㎡·月 × 89.20㎡ × 1个月 = 223.00元")
    amount: Amount
    paid: Amount = Field(description="What payments not voided settled")
    waived: Amount = Field(default=Decimal("0.00"),
                           description="What approved waivers (减免) took off; amount - paid - waived = outstanding")
    outstanding: Amount
    late_fee: LateFeeRead
    balance: Amount = Field(description="outstanding + the late fee a payment today would post")
    payments: list[PaymentOfLine]
    waivers: list[WaiverOfLine] = Field(default_factory=list, description="The approved waivers, each with its reason")
    state: ChargeState = Field(default=ChargeState.open, description="cancelled: billed wrongly, owes nothing, kept with its reason")
    cancel_reason: str | None = None
    replaces_id: uuid.UUID | None = Field(default=None, description="The cancelled charge this one corrects")


class BillTotals(BaseModel):
    billed: Amount = Field(description="Sum of the lines' amounts")
    paid: Amount
    waived: Amount = Field(default=Decimal("0.00"), description="Sum of the lines' waived amounts")
    late_fees: Amount
    outstanding: Amount = Field(description="Sum of the lines' outstanding amounts")
    credit: Amount = Field(description="Overpayments kept on account, less refunds paid from them")
    account_outstanding: Amount = Field(description="Every open charge of the unit, also those outside from/to")
    account_late_fees: Amount
    balance_due: Amount = Field(description="account_outstanding + account_late_fees - credit, never below 0")


class UnitBill(BaseModel):
    unit_id: uuid.UUID
    estate_id: uuid.UUID
    unit_label: str
    as_of: date = Field(description="Estate-local today: late fees are as of this day")
    from_month: str | None
    to_month: str | None
    lines: list[BillLine]
    totals: BillTotals
    account: AccountRead | None = Field(default=None, description="The unit's prepaid account (预存款): balance by earmark")


# --- arrears ---------------------------------------------------------------------------

class AgeBuckets(BaseModel):
    """Outstanding amounts by days past the due date."""

    days_0_30: Amount
    days_31_90: Amount
    days_91_365: Amount
    days_over_365: Amount
    total: Amount


class UnitArrears(AgeBuckets):
    unit_id: uuid.UUID
    unit_label: str
    building_id: uuid.UUID
    building_name: str
    owner_names: list[str] = Field(description="Main owner first")
    oldest_due_date: date | None = Field(description="The earliest due date still unpaid; null: nothing owed")


class EstateArrearsTotals(AgeBuckets):
    units: int = Field(description="Units owing anything (after the filters)")


class EstateArrears(BaseModel):
    estate_id: uuid.UUID
    as_of: date = Field(description="Estate-local today: ages count to this day")
    totals: EstateArrearsTotals = Field(description="Over every unit matching the filters, not only this page")
    items: list[UnitArrears]
    total: int = Field(description="Units matching the filters")
    limit: int
    offset: int
