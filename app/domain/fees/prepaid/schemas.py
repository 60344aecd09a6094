"""What clients send to and get from a unit's prepaid account."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from app.domain.fees.payments.schemas import Amount, DeskMethod, PayerName, PositiveMoney, Reason, ReceiptRead, Reference
from app.domain.fees.prepaid.model import EntryKind, RefundState
from app.domain.types import InputModel, Money


class EarmarkPart(InputModel):
    fee_item_id: uuid.UUID = Field(description="The fee item this part may only settle (e.g. only 物业费, only water)")
    amount: PositiveMoney


class DepositCreate(InputModel):
    """Money paid into the unit's account; `earmarks` set parts aside for fee items, the rest settles anything."""

    amount: PositiveMoney
    method: DeskMethod
    reference: Reference = Field(default="", description="The bank's or wallet's transaction number; required unless cash")
    tendered: Money | None = Field(default=None, description="Cash only: what the owner handed over (>= amount)")
    payer_name: PayerName = ""
    earmarks: list[EarmarkPart] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _earmarks_fit(self) -> DepositCreate:
        if len({e.fee_item_id for e in self.earmarks}) != len(self.earmarks):
            raise ValueError("earmarks must not repeat a fee item")
        if sum((e.amount for e in self.earmarks), Decimal(0)) > self.amount:
            raise ValueError("earmarks add up to more than the amount")
        return self


class BalanceLine(BaseModel):
    fee_item_id: uuid.UUID | None = Field(description="null: money not earmarked, settles any charge")
    name: str
    balance: Amount


class AccountRead(BaseModel):
    unit_id: uuid.UUID
    balance: Amount = Field(description="Everything on the account, earmarked or not")
    earmarks: list[BalanceLine] = Field(description="The balance by earmark, free money first")


class DepositRead(BaseModel):
    payment_id: uuid.UUID
    unit_id: uuid.UUID
    amount: Amount
    receipt: ReceiptRead
    account: AccountRead


class StatementLine(BaseModel):
    at: datetime
    kind: EntryKind
    kind_name: str
    fee_item_id: uuid.UUID | None
    earmark: str
    amount: Amount = Field(description="Signed: money in positive")
    balance: Amount = Field(description="The account's balance after this entry")
    document: str = Field(description="The receipt, deduction or refund document's number")
    charge: str = Field(description="A deduction's charge, or the cancelled charge a correction moved money from")


class AccountStatement(BaseModel):
    unit_id: uuid.UUID
    unit_label: str
    from_date: date
    to_date: date
    opening: Amount
    deposits: Amount = Field(description="Deposits and overpayments, less those voided in the period")
    corrections: Amount = Field(default=Decimal("0.00"),
                                description="Money paid on charges cancelled since (更正转存), moved here on approval, "
                                            "less what a void of its receipt took back")
    deductions: Amount
    refunds: Amount
    closing: Amount = Field(description="opening + deposits + corrections - deductions - refunds")
    lines: list[StatementLine]


class AccountRefundCreate(InputModel):
    amount: PositiveMoney
    method: DeskMethod
    reference: Reference = Field(default="", description="Required unless cash")
    reason: Reason
    fee_item_id: uuid.UUID | None = Field(default=None, description="Refund earmarked money of this fee item; null: free money")


class RefundDecision(InputModel):
    reason: Reason


class AccountRefundRead(BaseModel):
    id: uuid.UUID
    unit_id: uuid.UUID
    fee_item_id: uuid.UUID | None
    amount: Amount
    method: str
    reference: str
    reason: str
    status: RefundState
    requested_by: uuid.UUID
    requested_at: datetime
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_reason: str
    refund_id: uuid.UUID | None
    receipt_number: str | None
