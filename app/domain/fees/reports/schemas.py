"""What the fee reports give: the Saturday register (§5.5), the month-end fee report (§5.8)
and the stored copies the jobs produce. Money is a string with two places, rates four."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer

from app.domain.fees.corrections.schemas import MonthCorrections
from app.domain.fees.payments.model import PaymentMethod, ReceiptSeries, ReceiptStatus
from app.domain.types import MONTH_PATTERN, WEEK_PATTERN, real_week

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")]
Rate = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(RATE_PLACES)), return_type=str, when_used="json")]
ReportFormat = Literal["json", "csv", "xlsx"]


class FeeReportKind(StrEnum):
    saturday_register = "saturday_register"  # 'YYYY-Www': the Saturday-to-Friday week (§5.5)
    month_end = "month_end"  # 'YYYY-MM' (§5.8)

Week = Annotated[str, Field(pattern=WEEK_PATTERN, max_length=8, description="An ISO week: 2026-W48"), AfterValidator(real_week)]
Month = Annotated[str, Field(pattern=MONTH_PATTERN, max_length=7, description="A month: 2026-11")]


# --- the Saturday register (§5.5) --------------------------------------------------------

class SettledPart(BaseModel):
    fee_item_id: uuid.UUID
    fee_item_name: str
    fee_item_code: str = Field(default="", description="The fee item's code (blank in registers stored before it was kept)")
    period: str | None = Field(description="The month the charge is for; null for a one-off")
    amount: Amount


class RegisterLine(BaseModel):
    receipt_id: uuid.UUID
    number: str
    series: ReceiptSeries
    status: ReceiptStatus
    issued_at: datetime
    unit_id: uuid.UUID
    unit_label: str
    payer: str = Field(description="The payer named on the payment, else the unit's primary owner")
    settled: list[SettledPart] = Field(description="What the payment settled (a void lists what it had settled)")
    credit: Amount = Field(description="Overpayment kept on account")
    method: PaymentMethod
    amount: Amount = Field(description="The receipt's amount; negative for a refund")
    counted: Amount = Field(description="What the week counts: the amount, or 0 for a void")
    cashier_id: uuid.UUID
    cashier_name: str
    voided_at: datetime | None
    void_reason: str


class ItemTotal(BaseModel):
    fee_item_id: uuid.UUID | None = Field(description="null for money on account (credit) and refunds")
    name: str
    amount: Amount
    receipts: int = Field(description="Counted receipts with a part in this line")


class MethodTotal(BaseModel):
    method: PaymentMethod
    name: str
    amount: Amount
    receipts: int


class CashierTotal(BaseModel):
    cashier_id: uuid.UUID
    name: str
    amount: Amount
    receipts: int = Field(description="Counted receipts and refunds")
    voided: int


class RegisterCounts(BaseModel):
    lines: int
    receipts: int = Field(description="Payment receipts not voided")
    refunds: int = Field(description="Refund documents not voided")
    voided: int


class SaturdayRegister(BaseModel):
    estate_id: uuid.UUID
    estate_name: str
    week: str
    first_day: date = Field(description="The Saturday the week starts on")
    last_day: date = Field(description="The Friday it ends on")
    starts_at: datetime
    ends_at: datetime
    as_of: datetime = Field(description="When the figures were read: a later void changes the live register, not a stored one")
    lines: list[RegisterLine]
    by_fee_item: list[ItemTotal]
    by_method: list[MethodTotal]
    by_cashier: list[CashierTotal]
    grand_total: Amount
    counts: RegisterCounts


# --- the month-end fee report (§5.8) -----------------------------------------------------

class MonthFigures(BaseModel):
    billed: Amount = Field(description="Charges for the month")
    waived: Amount = Field(default=Decimal("0.00"), description="Of the month's charges, waived (减免) by approvals "
                                                                 "before the month's end")
    collected_before: Amount = Field(description="Paid for the month on receipts of earlier months (in advance)")
    collected_for_month: Amount = Field(description="Paid for the month on the month's receipts")
    outstanding: Amount = Field(description="Of the month's charges, unpaid and not waived at the month's end")
    collection_rate: Rate | None = Field(description="collected_for_month / (billed - waived): what was waived was never "
                                                     "to be collected; null when nothing is left to collect")
    collected_for_earlier: Amount = Field(description="Arrears of earlier months recovered on the month's receipts")
    collected_for_later: Amount = Field(description="Charges of later months paid on the month's receipts")
    collected_in_month: Amount = Field(description="All money the month's receipts brought in for this line")
    households_billed: int
    households_paid_in_full: int
    households_partly_paid: int
    households_unpaid: int


class MonthItemLine(MonthFigures):
    fee_item_id: uuid.UUID
    code: str
    name: str


class OnAccount(BaseModel):
    credit_received: Amount = Field(description="Overpayments and deposits kept on account on the month's receipts, and what "
                                              "they had settled of charges cancelled since (moved to the account)")
    refunds: Amount = Field(description="Refunds of credit paid out on the month's refund documents")
    # Settled from prepaid accounts: in collected (by fee item) but brought no money in the month.
    account_used: Amount = Field(default=Decimal("0.00"),
                                 description="Charges settled from prepaid accounts (预存款抵扣) on the month's documents")


class MonthBuildingLine(MonthFigures, OnAccount):
    building_id: uuid.UUID
    name: str


class MonthTotals(MonthFigures, OnAccount):
    receipts_total: Amount = Field(description="Sum of the month's receipts not voided, refunds negative; "
                                               "equals collected_in_month")
    receipts: int
    refund_documents: int
    voided: int


class MonthLateFees(BaseModel):
    """Late fees (滞纳金) of the month, also inside the fee items' figures (they are charges of their item)."""

    billed: Amount = Field(default=Decimal("0.00"), description="Late fees posted in the month")
    collected: Amount = Field(default=Decimal("0.00"), description="What the month's receipts settled of late fees, posted whenever")
    waived: Amount = Field(default=Decimal("0.00"), description="Waived of the late fees posted in the month")
    outstanding: Amount = Field(default=Decimal("0.00"), description="Of the month's late fees: unpaid and not waived at its end")


class MonthFeeReport(BaseModel):
    estate_id: uuid.UUID
    estate_name: str
    month: str
    starts_at: datetime
    ends_at: datetime
    as_of: datetime
    by_fee_item: list[MonthItemLine]
    by_building: list[MonthBuildingLine]
    totals: MonthTotals
    late_fees: MonthLateFees = Field(default_factory=MonthLateFees)
    # Default: a report stored before corrections existed still reads back.
    corrections: MonthCorrections = Field(default_factory=MonthCorrections,
                                          description="Cancelled charges of the month and their replacements")


# --- stored reports ----------------------------------------------------------------------

class FeeReportRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    kind: FeeReportKind
    period: str
    produced_at: datetime
    produced_by: str
    total: Amount = Field(description="The register's grand total, or the month's money collected")


class FeeReportDetail(FeeReportRead):
    saturday_register: SaturdayRegister | None = Field(description="With kind saturday_register")
    month_report: MonthFeeReport | None = Field(description="With kind month_end")
