"""What clients send to and get from fee items, prices, subscriptions, readings, billing runs and charges."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from app.domain.fees.billing.rules import CENT, MONTH_PATTERN
from app.domain.fees.model import ChargeSource, ChargeState, FeeKind, VacantRule
from app.domain.types import Code, InputModel, Money, Name, Patch, ShortText
from app.domain.versions import RowVersion

Month = Annotated[str, Field(pattern=MONTH_PATTERN, min_length=7, max_length=7, examples=["2026-11"])]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4, allow_inf_nan=False, description="Up to 4 places")]
Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4, allow_inf_nan=False)]
DailyRate = Annotated[Decimal, Field(ge=0, le=1, max_digits=8, decimal_places=6, allow_inf_nan=False, description="0.0005 = 0.05% a day")]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]
Reading = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0, le=3650)]
DueDay = Annotated[int, Field(ge=1, le=28)]
# Out: amounts always carry two places ("160.56").
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")]


class FeeItemCreate(InputModel):
    code: Code = Field(max_length=40, examples=["mgmt"])
    name: Name = Field(examples=["物业管理费"])
    kind: FeeKind
    unit_label: Annotated[str, Field(max_length=20, pattern=r"^[^\x00]*$")] = ""
    applies_to_all: bool = Field(default=True, description="per_area/fixed: bill every private unit; else subscribed units only")
    vacant_rule: VacantRule = VacantRule.charge
    vacant_discount: Share = Decimal("0")
    due_day: DueDay = 1
    unit_price: UnitPrice = Field(description="The first price")
    effective_from: date = Field(description="The first price applies from this day")


class FeeItemUpdate(Patch):
    """Name, rules and active; the price changes only through a new price from a date."""

    name: Name | None = None
    unit_label: Annotated[str | None, Field(max_length=20, pattern=r"^[^\x00]*$")] = None
    applies_to_all: bool | None = None
    vacant_rule: VacantRule | None = None
    vacant_discount: Share | None = None
    due_day: DueDay | None = None
    active: bool | None = None


class FeePriceCreate(InputModel):
    unit_price: UnitPrice
    effective_from: date


class FeePriceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    effective_from: date
    unit_price: Decimal
    created_at: datetime


class FeeItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    code: str
    name: str
    kind: FeeKind
    unit_label: str
    applies_to_all: bool
    vacant_rule: VacantRule
    vacant_discount: Decimal
    due_day: int
    active: bool
    current_price: Decimal | None = Field(default=None, description="The price in force today (estate time)")


class FeeItemDetail(FeeItemRead):
    prices: list[FeePriceRead] = Field(description="The price history, oldest first")


class SubscriptionPut(InputModel):
    quantity: Quantity = Decimal("1")
    from_month: Month
    to_month: Month | None = None
    starts_on: date | None = Field(default=None, description="First day billed, inside from_month; that month is prorated by days")
    ends_on: date | None = Field(default=None, description="Last day billed, inside to_month; that month is prorated by days")

    @model_validator(mode="after")
    def _in_order(self) -> SubscriptionPut:
        if self.to_month is not None and self.to_month < self.from_month:
            raise ValueError("to_month is before from_month")
        return self


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    unit_id: uuid.UUID
    fee_item_id: uuid.UUID
    fee_item_code: str
    fee_item_name: str
    kind: FeeKind
    quantity: Decimal
    from_month: str
    to_month: str | None
    starts_on: date | None = None
    ends_on: date | None = None


class MeterReadingCreate(InputModel):
    unit_id: uuid.UUID
    fee_item_id: uuid.UUID
    period: Month
    current: Reading
    previous: Reading | None = Field(default=None, description="Defaults to the last reading's current")


class ChargeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    unit_id: uuid.UUID
    fee_item_id: uuid.UUID
    period: str | None
    description: str
    amount: Amount
    amount_paid: Amount
    amount_waived: Amount = Field(description="Taken off by approved waivers (减免); the amount stays as billed")
    outstanding: Amount
    state: ChargeState = Field(description="cancelled: billed wrongly, kept with its reason, owes nothing")
    due_date: date
    basis: dict[str, Any]
    source: ChargeSource
    source_id: uuid.UUID | None
    billing_run_id: uuid.UUID | None
    paid_at: datetime | None
    late_fee_of: uuid.UUID | None = Field(description="For a late fee: the charge that was paid late")
    replaces_id: uuid.UUID | None = Field(description="For a correction: the cancelled charge it replaces")
    cancel_reason: str | None
    cancelled_at: datetime | None
    created_at: datetime
    late_fee: Amount = Field(default=Decimal("0.00"), description="The late fees posted on this charge (charges of their own)")
    late_fee_days: int = Field(default=0, description="The days past due and grace the posted late fees reached")
    late_fee_accruing: Amount = Field(
        default=Decimal("0.00"),
        description="Would be posted if paid today (estate time): exactly what a payment today posts on this charge")


class MeterReadingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    unit_id: uuid.UUID
    fee_item_id: uuid.UUID
    period: str
    previous: Decimal
    current: Decimal
    quantity: Decimal
    read_at: datetime
    read_by: uuid.UUID | None
    charge: ChargeRead | None = Field(description="The metered charge; null when nothing was used")


class ManualChargeCreate(InputModel):
    fee_item_id: uuid.UUID = Field(description="A one_off item (a deposit)")
    amount: Money
    description: ShortText

    @model_validator(mode="after")
    def _positive(self) -> ManualChargeCreate:
        if self.amount <= 0:
            raise ValueError("amount must be more than 0")
        return self


class BillingMonth(InputModel):
    month: Month


class PreviewItem(BaseModel):
    fee_item_id: uuid.UUID
    code: str
    name: str
    count: int
    total: Amount


class PreviewLine(BaseModel):
    unit_id: uuid.UUID
    unit_label: str
    fee_item_id: uuid.UUID
    fee_item_name: str
    amount: Amount
    basis: dict[str, Any]


class BillingPreview(BaseModel):
    month: str
    already_run: bool
    count: int
    total: Amount
    per_item: list[PreviewItem]
    lines: list[PreviewLine] = Field(description="The first lines, by building and room")
    skipped_vacant: int
    items_without_price: list[str] = Field(description="Codes of items with no price in force on the month's first day")


class BillingRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    month: str
    created_by: str
    created_by_id: uuid.UUID | None
    charges_created: int
    total: Amount
    created_at: datetime


class BillingRunResult(BaseModel):
    run: BillingRunRead
    created: int = Field(description="Charges created by this call: 0 when the month was billed already")
