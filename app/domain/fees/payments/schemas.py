"""What clients send to and get from payments, receipts, voids, refunds and a unit's credit."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, model_validator

from app.domain.fees.payments.model import PaymentMethod, ReceiptSeries, ReceiptStatus
from app.domain.types import InputModel, Money, text

CENT = Decimal("0.01")


Reference = Annotated[str, text(100, min_length=0)]
PayerName = Annotated[str, text(100, min_length=0)]
Reason = Annotated[str, text(500)]
PositiveMoney = Annotated[
    Decimal, Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False,
                   description="Yuan, at most two decimals; a string keeps it exact", examples=["160.56"])
]


def _at_the_desk(method: PaymentMethod) -> PaymentMethod:
    if method is PaymentMethod.account:
        raise ValueError("'account' is the prepaid account's own deductions; the desk takes cash, card, wallet or transfer")
    return method


# What money changes hands by at the desk: every method but the prepaid account's deductions.
DeskMethod = Annotated[PaymentMethod, AfterValidator(_at_the_desk)]
# Out: amounts always carry two places ("160.56").
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")]


class PaymentCreate(InputModel):
    """Either the charges to settle (in this order) or `settle: oldest_first`."""

    charge_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=100)
    settle: Literal["oldest_first"] | None = None
    amount: PositiveMoney = Field(description="What the office keeps: settled charges plus any credit")
    method: DeskMethod
    reference: Reference = Field(default="", description="The bank's or wallet's transaction number; required unless cash")
    tendered: Money | None = Field(default=None, description="Cash only: what the owner handed over (>= amount)")
    payer_name: PayerName = ""

    @model_validator(mode="after")
    def _one_way_to_choose(self) -> PaymentCreate:
        if (self.charge_ids is None) == (self.settle is None):
            raise ValueError("send either charge_ids or settle: oldest_first")
        if self.charge_ids is not None and len(set(self.charge_ids)) != len(self.charge_ids):
            raise ValueError("charge_ids must not repeat a charge")
        return self


class ReceiptVoid(InputModel):
    reason: Reason


class ReceiptPrintCreate(InputModel):
    reason: Annotated[str, text(500, min_length=0)] = Field(
        default="", description="Why it is printed again (a lost copy, a jammed printer); required once it was printed")


class ReceiptPrintRead(BaseModel):
    number: int = Field(description="1 for the first print; each later print N + 1 is marked 补打 N")
    at: datetime
    by: uuid.UUID
    by_name: str
    reason: str


class RefundCreate(InputModel):
    amount: PositiveMoney
    method: DeskMethod
    reference: Reference = Field(default="", description="Required unless cash")
    reason: Reason


class AllocationLine(BaseModel):
    charge_id: uuid.UUID
    description: str
    period: str | None
    amount: Amount = Field(description="实收: what this payment settled of the charge")
    reversed_at: datetime | None
    billed: Amount | None = Field(default=None, description="应收: the charge's billed amount")
    waived: Amount = Field(default=Decimal("0.00"), description="减免: what approved waivers took off the charge (as of now)")


class ReceiptRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    series: ReceiptSeries
    number: str
    year: int
    seq: int
    status: ReceiptStatus
    unit_id: uuid.UUID
    unit_label: str
    payment_id: uuid.UUID | None
    refund_id: uuid.UUID | None
    amount: Amount
    amount_in_words: str = Field(description="The amount in capital Chinese numerals (人民币大写)")
    method: PaymentMethod
    reference: str
    payer_name: str
    tendered: Amount | None
    change: Amount | None
    credit: Amount = Field(description="The part of a payment kept on account (overpayment)")
    allocations: list[AllocationLine]
    issued_at: datetime
    issued_by: uuid.UUID
    cashier_name: str
    cashier_session_id: uuid.UUID | None
    prints: list[ReceiptPrintRead] = Field(description="Every recorded print, the first first")
    reprint_count: int = Field(description="Prints after the first (补打), read from `prints`")
    void_reason: str
    voided_at: datetime | None
    voided_by: uuid.UUID | None


class PaymentRead(BaseModel):
    id: uuid.UUID
    unit_id: uuid.UUID
    method: PaymentMethod
    reference: str
    amount: Amount
    tendered: Amount | None
    change_given: Amount | None
    credit: Amount
    payer_name: str
    cashier_id: uuid.UUID
    cashier_session_id: uuid.UUID | None
    received_at: datetime
    receipt: ReceiptRead


class RefundRead(BaseModel):
    id: uuid.UUID
    unit_id: uuid.UUID
    amount: Amount
    method: PaymentMethod
    reference: str
    reason: str
    cashier_id: uuid.UUID
    cashier_session_id: uuid.UUID | None
    refunded_at: datetime
    receipt: ReceiptRead


class UnitCredit(BaseModel):
    unit_id: uuid.UUID
    paid_in: Amount = Field(description="Overpayments and deposits not earmarked, kept on account, not voided")
    refunded: Amount = Field(description="Refunds paid out, not voided")
    deducted: Amount = Field(default=Decimal("0.00"), description="Settled charges from the account (预存款抵扣), not voided")
    credit: Amount = Field(description="The account's balance not earmarked: paid_in - refunded - deducted")
