"""What clients send to and get from cashier sessions and the day's hand-over sheet (交款, §5.4)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from app.domain.fees.cash.model import SessionStatus
from app.domain.fees.payments.model import PaymentMethod, ReceiptSeries, ReceiptStatus
from app.domain.types import InputModel, text

CENT = Decimal("0.01")


Note = Annotated[str, text(1000, min_length=0)]
# A drawer never holds a hundred million; the bound keeps counted - expected inside Numeric(12, 2).
CountedCash = Annotated[
    Decimal, Field(ge=0, le=Decimal("99999999.99"), max_digits=12, decimal_places=2, allow_inf_nan=False,
                   description="The cash counted in the drawer, at most two decimals", examples=["1250.00"])
]
# Out: amounts always carry two places ("160.56").
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")]


class HandOver(InputModel):
    counted_cash: CountedCash
    note: Note = Field(default="", description="Required when the counted cash differs from the expected cash")


class Acknowledge(InputModel):
    note: Note = ""


class MethodLine(BaseModel):
    """One payment method of a session: what its receipts add up to, and the adjustments beside them."""

    method: PaymentMethod
    expected: Amount = Field(description="The money this drawer took: its receipts, net of refunds")
    receipts: int = Field(description="Receipts counted in the expected amount")
    adjustments: int = Field(description="Adjustments booked in this session (voids of handed-over receipts), not in expected")
    adjusted: Amount = Field(description="What those adjustments add up to; negative for a voided payment")


class CashierSessionRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    cashier_id: uuid.UUID
    cashier_name: str
    day: date
    status: SessionStatus
    expected: dict[PaymentMethod, Amount] = Field(
        description="Per method: live while open; fixed at hand-over once handed over")
    expected_total: Amount
    by_method: list[MethodLine]
    receipt_count: int
    void_count: int = Field(description="Receipts voided before hand-over; they count for nothing")
    counted_cash: Amount | None
    difference: Amount | None = Field(description="Counted minus expected cash; negative is a shortfall")
    note: str
    handed_over_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None
    acknowledged_by_name: str | None
    acknowledge_note: str
    flagged_late_at: datetime | None
    allowed_actions: list[str]


class SessionReceiptLine(BaseModel):
    id: uuid.UUID
    number: str
    series: ReceiptSeries
    unit_id: uuid.UUID
    method: PaymentMethod | None
    amount: Amount = Field(description="Positive for a receipt, negative for a refund paid out")
    status: ReceiptStatus
    issued_at: datetime
    voided_at: datetime | None
    counted: bool = Field(description="Whether it counts in the session's expected takings")


class AdjustmentRead(BaseModel):
    """A receipt voided after its session was handed over: reported beside the drawers, not in one."""

    id: uuid.UUID
    session_id: uuid.UUID = Field(description="The session of the day it was booked in: the voider's")
    receipt_id: uuid.UUID
    receipt_number: str
    method: str
    amount: Amount = Field(description="Negative for a voided payment, positive for a voided refund")
    reason: str
    at: datetime = Field(description="When it was voided")
    voided_by: uuid.UUID | None
    voided_by_name: str
    original_session_id: uuid.UUID | None = Field(description="The handed-over session the receipt's money went with")
    original_cashier_id: uuid.UUID | None
    original_cashier_name: str
    original_day: date | None


class CashierSessionDetail(CashierSessionRead):
    receipts: list[SessionReceiptLine]
    adjustments: list[AdjustmentRead] = Field(description="Voids of handed-over receipts booked here; not in expected")


class CashHandoverSheet(BaseModel):
    """The day's hand-over for finance: every session with its figures and the day's totals."""

    estate_id: uuid.UUID
    day: date
    sessions: list[CashierSessionRead]
    expected: dict[PaymentMethod, Amount] = Field(description="Per method, the money the day's drawers took")
    adjustments: list[AdjustmentRead] = Field(description="Voids of receipts handed over earlier, booked in the day's sessions")
    adjustments_total: dict[PaymentMethod, Amount]
    net: dict[PaymentMethod, Amount] = Field(description="Per method, expected plus adjustments: what finance keeps of the day")
    counted_cash: Amount = Field(description="Sum over the sessions handed over")
    difference: Amount = Field(description="Sum of the recorded differences")
    open_count: int
    handed_over_count: int
    acknowledged_count: int
