"""A refund of a channel payment (退款), sent back through the channel that took the money.

`pending` from the moment it is asked (the channel's PROCESSING, or no answer yet), then what the
channel's verified word says: `succeeded` (the money left us: the receipt is reversed in the same
transaction), `failed` (the channel refused the request, e.g. NOT_ENOUGH, and the receipt stays
valid), `closed` (REFUND.CLOSED: nothing was paid out), or `abnormal` (REFUND.ABNORMAL: the money
left the merchant account but did not reach the owner's; the receipt stays valid and finance
gets an alert, until a manual re-send on the merchant platform ends in SUCCESS or CLOSED).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, UniqueConstraint, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Conflict
from app.domain.events.model import EventType
from app.domain.fees.channels.model import Channel
from app.domain.transitions import TransitionTable


class ChannelRefundState(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    closed = "closed"
    abnormal = "abnormal"


# A refund still holding the payment: at most one per channel payment (a partial unique index).
LIVE = (ChannelRefundState.pending, ChannelRefundState.abnormal, ChannelRefundState.succeeded)

S = ChannelRefundState
CHANNEL_REFUND_TRANSITIONS: TransitionTable[ChannelRefundState] = TransitionTable("channel_refund", {
    (S.pending, "succeed"): S.succeeded,
    (S.pending, "fail"): S.failed,
    (S.pending, "close"): S.closed,
    (S.pending, "mark_abnormal"): S.abnormal,
    # After ABNORMAL the merchant re-sends the money by hand (异常退款); the channel then says SUCCESS or CLOSED.
    (S.abnormal, "succeed"): S.succeeded,
    (S.abnormal, "close"): S.closed,
})


class ChannelRefund(EstateScoped, table=True):
    __tablename__ = "channel_refund"
    __table_args__ = (
        UniqueConstraint("channel", "out_refund_no"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed', 'closed', 'abnormal')", name="status_known"),
        # Succeeded means the money left: the time the channel said so is kept with it.
        CheckConstraint("status <> 'succeeded' OR succeeded_at IS NOT NULL", name="succeeded_has_time"),
        # One refund holds a payment at a time; a failed or closed one leaves room for another.
        Index("uq_channel_refund_live_per_payment", "channel_payment_id", unique=True,
              postgresql_where=text("status IN ('pending', 'abnormal', 'succeeded')")),
    )

    channel: Channel = Field(sa_type=String(20))
    channel_payment_id: uuid.UUID = Field(foreign_key="channel_payment.id", index=True)
    payment_id: uuid.UUID = Field(foreign_key="payment.id", index=True)  # the booking it reverses
    receipt_id: uuid.UUID = Field(foreign_key="receipt.id", index=True)  # the receipt it reverses
    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    out_refund_no: str = Field(max_length=64)
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    reason: str = Field(max_length=500)  # the office's reason, as a void's
    status: ChannelRefundState = Field(default=ChannelRefundState.pending, sa_type=String(20))
    requested_by: uuid.UUID = Field(foreign_key="user.id")
    refund_id: str | None = Field(default=None, max_length=64)  # the channel's 微信支付退款单号
    channel_status: str = Field(default="", max_length=40)  # the channel's last word: PROCESSING, SUCCESS, NOT_ENOUGH...
    channel_reason: str = Field(default="", max_length=300)  # the channel's words on a refusal or an abnormal refund
    user_received_account: str = Field(default="", max_length=100)  # where the money went: 支付用户零钱, a bank card
    succeeded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # True when this refund voided the receipt; False when the receipt had been voided already.
    receipt_reversed: bool | None = Field(default=None)

    transitions: ClassVar[TransitionTable[ChannelRefundState]] = CHANNEL_REFUND_TRANSITIONS
    verb_events: ClassVar[dict[str, EventType]] = {
        "succeed": EventType.channel_refund_succeeded, "fail": EventType.channel_refund_failed,
        "close": EventType.channel_refund_closed, "mark_abnormal": EventType.channel_refund_abnormal,
    }

    def event_data(self, action: str) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "channel": self.channel, "channel_payment_id": self.channel_payment_id,
                "receipt_id": self.receipt_id, "out_refund_no": self.out_refund_no, "refund_id": self.refund_id,
                "amount": self.amount, "channel_status": self.channel_status, "channel_reason": self.channel_reason}

    def _move(self, action: str) -> None:
        self.status = CHANNEL_REFUND_TRANSITIONS.next_state(ChannelRefundState(self.status), action)

    def succeed(self, *, at: datetime, receipt_reversed: bool | None, refund_id: str | None = None, account: str = "") -> None:
        """The money left; `receipt_reversed`: this refund voided the receipt (False: it was void before; None: it could not)."""
        self._move("succeed")
        self.channel_status, self.succeeded_at, self.receipt_reversed = "SUCCESS", at, receipt_reversed
        self.refund_id = refund_id or self.refund_id
        self.user_received_account = account[:100] or self.user_received_account

    def fail(self, *, code: str, reason: str) -> None:
        self._move("fail")
        self.channel_status, self.channel_reason = code[:40], reason[:300]

    def close(self, *, reason: str = "") -> None:
        self._move("close")
        self.channel_status, self.channel_reason = "CLOSED", reason[:300]

    def mark_abnormal(self, *, reason: str = "") -> None:
        self._move("mark_abnormal")
        self.channel_status, self.channel_reason = "ABNORMAL", reason[:300]

    def acknowledge(self, *, refund_id: str | None, channel_status: str) -> None:
        """The channel took the request (PROCESSING) or did not answer: still pending, its words kept."""
        self.refund_id = refund_id or self.refund_id
        self.channel_status = channel_status[:40]


class ReceiptHasChannelRefund(Conflict):
    title = "A refund of this receipt through the payment channel is under way: the receipt is reversed when the money has left"
    title_zh = "该收据正在通过支付渠道退款：款项退出后收据将自动作废"


async def refund_under_way(session: AsyncSession, *, receipt_id: uuid.UUID) -> ChannelRefund | None:
    """The pending or abnormal channel refund of a receipt: while there is one, the desk does not void it.

    A refund's own transaction holds the receipt's row lock from its check to its commit, and a
    void holds it too, so the void reads this after any refund that started first has committed."""
    stmt = select(ChannelRefund).where(ChannelRefund.receipt_id == receipt_id, ChannelRefund.status.in_(
        [ChannelRefundState.pending.value, ChannelRefundState.abnormal.value]))
    return (await session.execute(stmt)).scalars().first()
