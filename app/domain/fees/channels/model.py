"""Channel payments (WeChat Pay, Alipay), their estate's credentials and their alerts.

A channel payment is the office's order at the channel for exactly some charges: created
`pending` with the amount asked, it becomes `paid` when the channel's verified word arrives (and
books a Payment with its receipt), or `failed` / `closed`. One transition table; every move goes
through audit.apply, which records it and emits its event.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Numeric, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.events.model import EventType
from app.domain.transitions import TransitionTable
from app.domain.versions import Versioned


class Channel(StrEnum):
    wechat = "wechat"
    alipay = "alipay"


class ChannelKind(StrEnum):
    native = "native"  # 扫码支付: the office shows a QR code (code_url), the owner scans it
    codepay = "codepay"  # 付款码支付: the desk scans the owner's payment code; booked in the receptionist's drawer


class ChannelPaymentState(StrEnum):
    pending = "pending"
    paid = "paid"
    failed = "failed"
    closed = "closed"


S = ChannelPaymentState
CHANNEL_PAYMENT_TRANSITIONS: TransitionTable[ChannelPaymentState] = TransitionTable("channel_payment", {
    (S.pending, "pay"): S.paid,
    (S.pending, "fail"): S.failed,
    (S.pending, "close"): S.closed,
})


class ChannelCredential(EstateScoped, Versioned, table=True):
    """An estate's merchant account at one channel. The secrets are one AES-GCM blob (credentials.py).

    Alipay keeps its app's APPID in `appid` and the seller's PID (2088...) in `mchid`; it has no
    serial numbers (public-key mode)."""

    __tablename__ = "channel_credential"
    __table_args__ = (UniqueConstraint("estate_id", "channel"),)

    channel: Channel = Field(sa_type=String(20))
    mchid: str = Field(max_length=32)
    appid: str = Field(max_length=32)
    merchant_serial_no: str = Field(max_length=64)
    platform_public_key_id: str = Field(max_length=64)
    # Merchant private key, APIv3 key and platform public key, encrypted with a key derived from the app secret.
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"sealed"})


class ChannelPayment(EstateScoped, table=True):
    __tablename__ = "channel_payment"
    __table_args__ = (
        UniqueConstraint("channel", "out_trade_no"),
        # One booking per channel transaction, whatever races deliver it.
        UniqueConstraint("channel", "transaction_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'paid', 'failed', 'closed')", name="status_known"),
        CheckConstraint("status <> 'paid' OR (transaction_id IS NOT NULL AND payment_id IS NOT NULL)", name="paid_is_booked"),
        Index("ix_channel_payment_estate_created", "estate_id", "created_at"),
    )

    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    channel: Channel = Field(sa_type=String(20))
    kind: ChannelKind = Field(sa_type=String(20))
    out_trade_no: str = Field(max_length=32)
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    charge_ids: list[uuid.UUID] = Field(sa_column=Column(ARRAY(Uuid()), nullable=False))
    status: ChannelPaymentState = Field(default=ChannelPaymentState.pending, sa_type=String(20))
    code_url: str = Field(default="", max_length=300)  # WeChat's code_url, Alipay's qr_code
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    created_by: uuid.UUID = Field(foreign_key="user.id")
    transaction_id: str | None = Field(default=None, max_length=64)
    payment_id: uuid.UUID | None = Field(default=None, foreign_key="payment.id", unique=True)
    paid_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    reason: str = Field(default="", max_length=200)  # the channel's words on a failure or close

    transitions: ClassVar[TransitionTable[ChannelPaymentState]] = CHANNEL_PAYMENT_TRANSITIONS
    verb_events: ClassVar[dict[str, EventType]] = {
        "pay": EventType.channel_payment_paid, "fail": EventType.channel_payment_failed,
        "close": EventType.channel_payment_closed,
    }

    def event_data(self, action: str) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "channel": self.channel, "out_trade_no": self.out_trade_no,
                "amount": self.amount, "transaction_id": self.transaction_id, "payment_id": self.payment_id,
                "reason": self.reason}

    def _move(self, action: str) -> None:
        self.status = CHANNEL_PAYMENT_TRANSITIONS.next_state(ChannelPaymentState(self.status), action)

    def pay(self, *, transaction_id: str, payment_id: uuid.UUID, at: datetime) -> None:
        self._move("pay")
        self.transaction_id, self.payment_id, self.paid_at = transaction_id, payment_id, at

    def fail(self, *, reason: str) -> None:
        self._move("fail")
        self.reason = reason[:200]

    def close(self, *, reason: str) -> None:
        self._move("close")
        self.reason = reason[:200]


class AlertReason(StrEnum):
    """Why a verified word from a channel was not booked as it stands."""

    unknown_order = "unknown_order"  # out_trade_no is none of ours
    merchant_mismatch = "merchant_mismatch"  # mchid / appid (Alipay: seller_id / app_id) not the estate's
    amount_mismatch = "amount_mismatch"  # total or currency not what was asked
    not_pending = "not_pending"  # paid after we failed or closed it, or paid twice
    settled_meanwhile = "settled_meanwhile"  # booked, but a charge had been paid at the desk: money on account
    # Refunds (refunds.py): the word on a refund of ours that is none of ours or not as asked,
    # money stuck between merchant and owner, and money returned whose receipt could not be reversed.
    refund_unknown = "refund_unknown"
    refund_mismatch = "refund_mismatch"
    refund_abnormal = "refund_abnormal"
    refund_not_reversed = "refund_not_reversed"


class ChannelAlert(EstateScoped, table=True):
    """Something finance must look at. Written once per notification and reason."""

    __tablename__ = "channel_alert"
    __table_args__ = (UniqueConstraint("channel", "notification_id", "reason"),)

    channel: Channel = Field(sa_type=String(20))
    notification_id: str = Field(max_length=64)
    reason: AlertReason = Field(sa_type=String(40))
    channel_payment_id: uuid.UUID | None = Field(default=None, foreign_key="channel_payment.id", index=True)
    out_trade_no: str = Field(default="", max_length=64)
    transaction_id: str = Field(default="", max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    at: datetime = Field(sa_type=DateTime(timezone=True))
