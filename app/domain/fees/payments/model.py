"""Payments, their allocations to charges, numbered receipts and refunds (§5.2, §5.4).

Receipt numbers are gapless per estate, series and year: the counter row is incremented in
the same transaction as the payment, so a rolled-back payment gives its number back and
concurrent payments queue on the counter's row lock instead of skipping or repeating.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from app.domain.base import EstateScoped
from app.domain.errors import Invalid
from app.domain.events.model import EventType
from app.domain.transitions import TransitionTable


class PaymentMethod(StrEnum):
    cash = "cash"
    bank_card = "bank_card"
    wechat = "wechat"
    alipay = "alipay"
    bank_transfer = "bank_transfer"
    # Settled from the unit's prepaid account by the deduction job: no money changes hands, so no
    # drawer counts it; the desk never takes a payment of this method.
    account = "account"


# As the office's paper and spreadsheets name the methods.
METHOD_NAMES = {
    PaymentMethod.cash: "现金", PaymentMethod.bank_card: "银行卡", PaymentMethod.wechat: "微信支付",
    PaymentMethod.alipay: "支付宝", PaymentMethod.bank_transfer: "银行转账", PaymentMethod.account: "预存款抵扣",
}
# The methods a cashier's drawer takes and counts.
DRAWER_METHODS: list[PaymentMethod] = [m for m in PaymentMethod if m is not PaymentMethod.account]


class Payment(EstateScoped, table=True):
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("credit >= 0 AND credit <= amount", name="credit_within_amount"),
        CheckConstraint("method = 'cash' OR reference <> ''", name="reference_for_non_cash"),
        CheckConstraint("method = 'cash' OR (tendered IS NULL AND change_given IS NULL)", name="change_only_for_cash"),
        Index("ix_payment_estate_received", "estate_id", "received_at"),
    )

    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    method: PaymentMethod = Field(sa_type=String(20))
    reference: str = Field(default="", max_length=100)  # the bank's or the wallet's transaction number
    amount: Decimal = Field(sa_type=Numeric(12, 2))  # kept by the office: settled charges + credit
    tendered: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))  # cash handed over by the owner
    change_given: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    credit: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(12, 2))  # overpayment kept on account
    payer_name: str = Field(default="", max_length=100)
    cashier_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    cashier_session_id: uuid.UUID | None = Field(default=None, index=True)
    received_at: datetime = Field(sa_type=DateTime(timezone=True))


class Allocation(EstateScoped, table=True):
    """The part of a payment that settled one charge; a void reverses it, never deletes it."""

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    payment_id: uuid.UUID = Field(foreign_key="payment.id", index=True)
    charge_id: uuid.UUID = Field(foreign_key="charge.id", index=True)
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    reversed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ReceiptSeries(StrEnum):
    receipt = "receipt"  # QS-2026-000123
    refund = "refund"  # QS-R-2026-000007: a refund is its own numbered document
    deposit = "deposit"  # QS-D-2026-000003: money paid into a unit's prepaid account
    account = "account"  # QS-K-2026-000011: a deduction from the account that settled charges
    online = "online"  # QS-W-2026-000001: money a channel (WeChat Pay) reported paid; no drawer counts it


class ReceiptStatus(StrEnum):
    issued = "issued"
    void = "void"


# As the register and its files name them.
SERIES_NAMES = {ReceiptSeries.receipt: "收据", ReceiptSeries.refund: "退款", ReceiptSeries.deposit: "预存款",
                ReceiptSeries.account: "预存款抵扣", ReceiptSeries.online: "线上收款"}
STATUS_NAMES = {ReceiptStatus.issued: "有效", ReceiptStatus.void: "作废"}


RECEIPT_TRANSITIONS: TransitionTable[ReceiptStatus] = TransitionTable("receipt", {
    (ReceiptStatus.issued, "void"): ReceiptStatus.void,
})


class VoidNeedsReason(Invalid):
    title = "Voiding a receipt needs a reason"
    title_zh = "作废收据须注明原因"


class Receipt(EstateScoped, table=True):
    __table_args__ = (
        UniqueConstraint("estate_id", "number"),
        UniqueConstraint("estate_id", "series", "year", "seq"),
        CheckConstraint("status <> 'void' OR void_reason <> ''", name="void_has_reason"),
        # The registers and the month-end report read an estate's receipts of a week or a month.
        Index("ix_receipt_estate_issued", "estate_id", "issued_at"),
    )

    series: ReceiptSeries = Field(default=ReceiptSeries.receipt, sa_type=String(20))
    year: int
    seq: int
    number: str = Field(max_length=40)
    payment_id: uuid.UUID | None = Field(default=None, foreign_key="payment.id", unique=True)
    refund_id: uuid.UUID | None = Field(default=None, foreign_key="refund.id", unique=True)
    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    status: ReceiptStatus = Field(default=ReceiptStatus.issued, sa_type=String(20))
    issued_at: datetime = Field(sa_type=DateTime(timezone=True))
    issued_by: uuid.UUID = Field(foreign_key="user.id")
    cashier_session_id: uuid.UUID | None = Field(default=None, index=True)
    void_reason: str = Field(default="", max_length=500)
    voided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    voided_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")

    transitions: ClassVar[TransitionTable[ReceiptStatus]] = RECEIPT_TRANSITIONS
    verb_events: ClassVar[dict[str, EventType]] = {"void": EventType.receipt_voided}

    def event_data(self, action: str) -> dict[str, Any]:
        return {"number": self.number, "unit_id": self.unit_id, "reason": self.void_reason}

    def void(self, *, reason: str, by: uuid.UUID | None, at: datetime) -> None:
        if not reason.strip():
            raise VoidNeedsReason(field="reason")
        self.status = RECEIPT_TRANSITIONS.next_state(ReceiptStatus(self.status), "void")
        self.void_reason, self.voided_by, self.voided_at = reason, by, at


class ReceiptPrint(EstateScoped, table=True):
    """One recorded print of a receipt: the first is number 1, each later one a 补打 (number - 1)."""

    __tablename__ = "receipt_print"
    __table_args__ = (
        UniqueConstraint("receipt_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
        # A reprint says why: a lost copy, a payer asking again, a jammed printer.
        CheckConstraint("number = 1 OR reason <> ''", name="reprint_has_reason"),
    )

    receipt_id: uuid.UUID = Field(foreign_key="receipt.id")  # led by the unique (receipt_id, number)
    number: int
    printed_at: datetime = Field(sa_type=DateTime(timezone=True))
    printed_by: uuid.UUID = Field(foreign_key="user.id")
    printed_by_name: str = Field(max_length=100)  # as it was printed, even if the user is renamed later
    reason: str = Field(default="", max_length=500)


class Refund(EstateScoped, table=True):
    """Money paid back from a unit's credit (an overpayment), with its own numbered document."""

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    method: PaymentMethod = Field(sa_type=String(20))
    reference: str = Field(default="", max_length=100)
    reason: str = Field(max_length=500)
    cashier_id: uuid.UUID = Field(foreign_key="user.id")
    cashier_session_id: uuid.UUID | None = Field(default=None, index=True)
    refunded_at: datetime = Field(sa_type=DateTime(timezone=True))


class DocumentCounter(SQLModel, table=True):
    """The last number used per estate, series and year."""

    __tablename__ = "document_counter"
    estate_id: uuid.UUID = Field(foreign_key="estate.id", primary_key=True)
    series: str = Field(max_length=20, primary_key=True)
    year: int = Field(primary_key=True)
    last_seq: int = 0


_NEXT = text(
    "INSERT INTO document_counter (estate_id, series, year, last_seq) VALUES (:estate_id, :series, :year, 1) "
    "ON CONFLICT (estate_id, series, year) DO UPDATE SET last_seq = document_counter.last_seq + 1 "
    "RETURNING last_seq"
)


async def next_seq(session: AsyncSession, *, estate_id: uuid.UUID, series: str, year: int) -> int:
    """The next number of the series (receipts', or complaints', requests' and orders', which count
    in the same table); the row stays locked until the transaction ends, so numbers stay gapless."""
    result = await session.execute(_NEXT, {"estate_id": estate_id, "series": str(series), "year": year})
    return int(result.scalar_one())


_MIDDLES = {ReceiptSeries.refund: "-R", ReceiptSeries.deposit: "-D", ReceiptSeries.account: "-K", ReceiptSeries.online: "-W"}


def format_number(*, estate_code: str, series: ReceiptSeries, year: int, seq: int) -> str:
    middle = _MIDDLES.get(series, "")
    return f"{estate_code}{middle}-{year}-{seq:06d}"
