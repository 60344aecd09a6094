"""A channel's verified word on one of our orders, checked and booked once: one path for every channel.

wechat.py and alipay.py verify a notification in their channel's scheme and say what it means
as a `Word`; `settle` checks it against the order (merchant, app, amount), and books the
payment once through payments.book, or puts an alert before finance. The poll and the counter
(resolve.py) bring the channel's answer to a query or a payment code as a Word too and settle
it here: notification, poll and counter book through this one locked path.

Locks are taken in one order -- the channel payment's row, then (a payment code scanned at the
desk) the receptionist's drawer, then the charges (by id), then the prepaid balance and the
receipt counter, as a desk payment takes them after its drawer -- so duplicate notifications
and a poll queue on the first lock and book once, and none deadlocks with the desk.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor, system_actor
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.fees.cash.service import SessionHandedOver
from app.domain.fees.channels.model import (
    AlertReason,
    Channel,
    ChannelAlert,
    ChannelKind,
    ChannelPayment,
    ChannelPaymentState,
)
from app.domain.fees.model import Charge
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import PaymentMethod, ReceiptSeries
from app.domain.registry.model import Estate

FEN = Decimal("100")
# Who the audit trail says acted when a channel's word moved money.
ACTORS = {Channel.wechat: "wechatpay", Channel.alipay: "alipay"}
METHODS = {Channel.wechat: PaymentMethod.wechat, Channel.alipay: PaymentMethod.alipay}


class TradeState(StrEnum):
    paid = "paid"  # WeChat SUCCESS; Alipay TRADE_SUCCESS / TRADE_FINISHED
    closed = "closed"  # Alipay TRADE_CLOSED: unpaid and closed at the channel
    open = "open"  # anything else: nothing to do on our side


@dataclass(frozen=True, kw_only=True)
class Word:
    """What a channel's verified notification says about one order, in our terms."""

    channel: Channel
    notification_id: str
    out_trade_no: str
    transaction_id: str
    state: TradeState
    merchant: dict[str, Any]  # the merchant and app as the word names them, e.g. {"mchid": ..., "appid": ...}
    amount: Decimal | None  # in yuan; None when the word's amount is not a number
    currency: str | None
    amount_detail: dict[str, Any] = field(default_factory=dict)  # the amount as the channel wrote it, for an alert
    paid_at: datetime | None = None
    reason: str = ""  # the channel's words on a close


async def alert(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, word: Word, reason: AlertReason,
                row: ChannelPayment | None, detail: dict[str, Any], at: datetime) -> None:
    """Record what finance must look at, once per notification and reason, with its event."""
    alert_id = uuid.uuid4()
    values = {"id": alert_id, "created_at": at, "estate_id": estate_id, "channel": word.channel.value,
              "notification_id": word.notification_id[:64], "reason": reason.value, "channel_payment_id": row.id if row else None,
              "out_trade_no": word.out_trade_no[:64], "transaction_id": word.transaction_id[:64], "detail": detail, "at": at}
    stmt = insert(ChannelAlert).values(**values).on_conflict_do_nothing().returning(ChannelAlert.id)
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return  # this notification's alert is written already
    await audit.record(session, actor=actor, action="channel.alert", entity="channel_alert", entity_id=alert_id,
                       estate_id=estate_id, after={k: v for k, v in values.items() if k != "created_at"})
    await outbox.emit(session, estate_id=estate_id, type=EventType.channel_alert, entity="channel_alert", entity_id=alert_id,
                      data={"reason": reason.value, "channel": word.channel.value, "out_trade_no": values["out_trade_no"],
                            "transaction_id": values["transaction_id"], "channel_payment_id": values["channel_payment_id"],
                            **detail}, at=at)


def mismatch(row: ChannelPayment | None, estate_id: uuid.UUID, word: Word,
             merchant: dict[str, Any]) -> tuple[AlertReason, dict[str, Any]] | None:
    """Why a verified word does not describe the order we placed (with `merchant`, the estate's), if it does not."""
    if row is None or row.estate_id != estate_id:
        return AlertReason.unknown_order, {}
    if word.merchant != merchant:
        return AlertReason.merchant_mismatch, dict(word.merchant)
    if word.amount != row.amount or word.currency != "CNY":
        return AlertReason.amount_mismatch, {"asked": str(row.amount), "asked_fen": int(row.amount * FEN),
                                             **word.amount_detail}
    return None


async def lock(session: AsyncSession, channel: Channel, out_trade_no: str) -> ChannelPayment | None:
    stmt = (select(ChannelPayment).where(ChannelPayment.channel == channel.value, ChannelPayment.out_trade_no == out_trade_no)
            .with_for_update().execution_options(populate_existing=True))
    return (await session.execute(stmt)).scalar_one_or_none()


async def _drawer(session: AsyncSession, *, actor: Actor, row: ChannelPayment, estate: Estate,
                  now: datetime) -> uuid.UUID | None:
    """The cashier session a payment is credited to: a payment code scanned at the desk goes in
    the receptionist's day (under the channel's method, beside the cash, never counted as cash);
    a QR paid from home goes in none. A day handed over meanwhile leaves it in none, like a QR."""
    if row.kind != ChannelKind.codepay:
        return None
    try:
        return (await payments.current_session(session, estate=estate, cashier_id=row.created_by, at=now, actor=actor)).id
    except SessionHandedOver:
        return None


async def book(session: AsyncSession, *, actor: Actor, row: ChannelPayment, transaction_id: str, paid_at: datetime,
               now: datetime) -> tuple[Decimal, list[uuid.UUID]]:
    """Settle the charges as a desk payment would, by the row's channel: a QR in the online series
    in no drawer, a payment code in the receptionist's drawer and the desk's series.

    A charge settled meanwhile (paid at the desk) gets nothing: its share goes on account as
    the unit's credit. Returns (credit, the charges that could not take their share)."""
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    drawer = await _drawer(session, actor=actor, row=row, estate=estate, now=now)  # the drawer before the charges
    stmt = (select(Charge).where(Charge.id.in_(row.charge_ids)).order_by(Charge.id).with_for_update()
            .execution_options(populate_existing=True))
    found = {c.id: c for c in (await session.execute(stmt)).scalars()}
    owing = [found[i] for i in row.charge_ids if i in found and found[i].outstanding > 0]
    parts, credit = payments.allocate(row.amount, owing, selected=False)
    booking = payments.Booking(method=METHODS[Channel(row.channel)], reference=transaction_id, amount=row.amount,
                               cashier_id=row.created_by, cashier_session_id=drawer,
                               series=ReceiptSeries.receipt if drawer else ReceiptSeries.online)
    payment, _, _ = await payments.book(session, actor=actor, estate=estate, unit_id=row.unit_id, booking=booking,
                                        parts=parts, credit=credit, at=now)
    await audit.apply(session, actor=actor, row=row, action="pay", transaction_id=transaction_id, payment_id=payment.id,
                      at=paid_at, event_at=now)
    short = [i for i in row.charge_ids if i not in {c.id for c, _ in parts}]
    return credit, short


async def settle(session: AsyncSession, *, estate_id: uuid.UUID, word: Word, merchant: dict[str, Any], now: datetime,
                 actor: Actor | None = None) -> None:
    """Check a verified word against its order and act on it once, whatever repeats or races.

    Paid: book (or, told again, nothing); closed at the channel while pending: close; a word
    that does not describe our order, or pays one we failed or closed: an alert, never a booking.
    `actor`: who the audit trail names (the receptionist at the counter), else the channel."""
    actor = actor or system_actor(ACTORS[word.channel])
    row = await lock(session, word.channel, word.out_trade_no)
    wrong = mismatch(row, estate_id, word, merchant)
    if wrong is not None:
        await alert(session, actor=actor, estate_id=estate_id, word=word, reason=wrong[0],
                    row=row if wrong[0] is not AlertReason.unknown_order else None, detail=wrong[1], at=now)
        return
    assert row is not None
    if word.state is TradeState.closed and row.status == ChannelPaymentState.pending:
        await audit.apply(session, actor=actor, row=row, action="close", reason=word.reason or "closed by the channel",
                          event_at=now)
        return
    if word.state is not TradeState.paid:
        return  # nothing has moved; the poll resolves the rest
    if row.status == ChannelPaymentState.paid and row.transaction_id == word.transaction_id:
        return  # the same payment told again: booked once already
    if row.status != ChannelPaymentState.pending:
        await alert(session, actor=actor, estate_id=estate_id, word=word, reason=AlertReason.not_pending, row=row,
                    detail={"status": row.status, "booked_transaction_id": row.transaction_id}, at=now)
        return
    credit, short = await book(session, actor=actor, row=row, transaction_id=word.transaction_id,
                               paid_at=word.paid_at or now, now=now)
    if credit > 0:
        await alert(session, actor=actor, estate_id=estate_id, word=word, reason=AlertReason.settled_meanwhile, row=row,
                    detail={"credit": str(credit), "charge_ids": [str(i) for i in short], "payment_id": str(row.payment_id)},
                    at=now)
