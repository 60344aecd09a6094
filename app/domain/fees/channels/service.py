"""Channel payments: the QR order for a unit's charges, and the channel's word that it was paid.

Locks on the notification path are taken in one order -- the channel payment's row, then the
charges (by id), then the prepaid balance and the receipt counter, as a desk payment takes them
after its drawer -- so duplicate notifications queue on the first lock and book once, and a
notification never deadlocks with the desk.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor, system_actor
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.errors import NotFound
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.fees.channels import credentials, wechat
from app.domain.fees.channels.model import AlertReason, Channel, ChannelAlert, ChannelPayment, ChannelPaymentState
from app.domain.fees.channels.schemas import ChannelPaymentCreate, ChannelPaymentRead
from app.domain.fees.model import Charge
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import PaymentMethod, ReceiptSeries
from app.domain.registry import units
from app.domain.registry.model import Estate
from app.domain.visibility import Visible, load_visible

FEN = Decimal("100")
NOTIFY_PATH = "/api/v1/payment-channels/wechat/notify/{estate_id}"
CHANNEL_ACTOR = "wechatpay"


def notify_url(settings: Settings, estate_id: uuid.UUID) -> str:
    return settings.channel_notify_base_url.rstrip("/") + NOTIFY_PATH.format(estate_id=estate_id)


class ChannelPaymentNotFound(NotFound):
    title = "Channel payment not found"
    title_zh = "未找到该线上支付"


CHANNEL_PAYMENT = Visible(model=ChannelPayment, missing=ChannelPaymentNotFound)


async def get_payment(session: AsyncSession, *, actor: Actor, payment_id: uuid.UUID) -> ChannelPaymentRead:
    """A QR payment as it stands: the desk polls it to see the owner has paid (status, receipt)."""
    return _read(await load_visible(session, CHANNEL_PAYMENT, payment_id, actor=actor))


def _read(row: ChannelPayment) -> ChannelPaymentRead:
    return ChannelPaymentRead(**row.model_dump(include=set(ChannelPaymentRead.model_fields)))


async def create_native(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: ChannelPaymentCreate,
                        settings: Settings, now: datetime | None = None) -> ChannelPaymentRead:
    """Price the charges at what they owe now, place the channel's Native order, keep it pending."""
    now = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise payments.NoCashierForPayment()
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    if not settings.channel_notify_base_url:
        raise credentials.ChannelNotConfigured("PROPDESK_CHANNEL_NOTIFY_BASE_URL is not set: the channel could not tell us")
    creds = await credentials.open_wechat(session, estate_id=unit.estate_id, secret=settings.signing_secret)
    # Read, not locked: the channel is called next, and the desk must not wait on it.
    charges = await payments.selected_charges(session, unit_id=unit.id, estate_id=unit.estate_id,
                                              charge_ids=data.charge_ids, lock=False)
    amount = sum((c.outstanding for c in charges), Decimal("0.00"))
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    expires_at = now + timedelta(minutes=settings.channel_qr_valid_minutes)
    out_trade_no = "PD" + uuid.uuid4().hex[:24].upper()
    code_url = await wechat.native_order(
        creds, gateway=settings.wechatpay_gateway, notify_url=notify_url(settings, estate.id), out_trade_no=out_trade_no,
        description=f"物业费 {unit.label}"[:40], total_fen=int(amount * FEN),
        time_expire=expires_at.astimezone(estate_time.estate_zone(estate)).isoformat(timespec="seconds"))
    row = ChannelPayment(estate_id=estate.id, unit_id=unit.id, channel=data.channel, kind=data.kind, out_trade_no=out_trade_no,
                         amount=amount, charge_ids=list(data.charge_ids), code_url=code_url, expires_at=expires_at,
                         created_by=actor.id, created_at=now)
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="channel_payment.create", row=row)
    return _read(row)


# --- the channel's notification ---------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """What the channel is answered: 200 {"code": "SUCCESS"}, or 4xx {"code": "FAIL", "message": ...}."""

    status: int = 200
    message: str = ""

    def body(self) -> dict[str, str]:
        return {"code": "SUCCESS"} if self.status == 200 else {"code": "FAIL", "message": self.message}


async def _alert(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, note: wechat.Notification, reason: AlertReason,
                 row: ChannelPayment | None, detail: dict[str, Any], at: datetime) -> None:
    """Record what finance must look at, once per notification and reason, with its event."""
    resource = note.resource
    alert_id = uuid.uuid4()
    values = {"id": alert_id, "created_at": at, "estate_id": estate_id, "channel": Channel.wechat.value,
              "notification_id": note.id[:64], "reason": reason.value, "channel_payment_id": row.id if row else None,
              "out_trade_no": str(resource.get("out_trade_no", ""))[:64],
              "transaction_id": str(resource.get("transaction_id", ""))[:64], "detail": detail, "at": at}
    stmt = insert(ChannelAlert).values(**values).on_conflict_do_nothing().returning(ChannelAlert.id)
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return  # this notification's alert is written already
    await audit.record(session, actor=actor, action="channel.alert", entity="channel_alert", entity_id=alert_id,
                       estate_id=estate_id, after={k: v for k, v in values.items() if k != "created_at"})
    await outbox.emit(session, estate_id=estate_id, type=EventType.channel_alert, entity="channel_alert", entity_id=alert_id,
                      data={"reason": reason.value, "channel": Channel.wechat.value, "out_trade_no": values["out_trade_no"],
                            "transaction_id": values["transaction_id"], "channel_payment_id": values["channel_payment_id"],
                            **detail}, at=at)


def _mismatch(row: ChannelPayment | None, estate_id: uuid.UUID, creds: credentials.WechatCredentials,
              resource: dict[str, Any]) -> tuple[AlertReason, dict[str, Any]] | None:
    """Why a verified notification does not describe the order we placed, if it does not."""
    if row is None or row.estate_id != estate_id:
        return AlertReason.unknown_order, {}
    if resource.get("mchid") != creds.mchid or resource.get("appid") != creds.appid:
        return AlertReason.merchant_mismatch, {"mchid": resource.get("mchid"), "appid": resource.get("appid")}
    amount = resource.get("amount") or {}
    if amount.get("total") != int(row.amount * FEN) or amount.get("currency") != "CNY":
        return AlertReason.amount_mismatch, {"asked_fen": int(row.amount * FEN), "total": amount.get("total"),
                                             "currency": amount.get("currency")}
    return None


async def _lock(session: AsyncSession, out_trade_no: str) -> ChannelPayment | None:
    stmt = (select(ChannelPayment).where(ChannelPayment.channel == Channel.wechat.value, ChannelPayment.out_trade_no == out_trade_no)
            .with_for_update().execution_options(populate_existing=True))
    return (await session.execute(stmt)).scalar_one_or_none()


def _paid_at(resource: dict[str, Any], default: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(resource.get("success_time")))
    except ValueError:
        return default


async def _book(session: AsyncSession, *, actor: Actor, row: ChannelPayment, transaction_id: str, paid_at: datetime,
                now: datetime) -> tuple[Decimal, list[uuid.UUID]]:
    """Settle the charges as a desk payment would, by WeChat, in the online series, in no drawer.

    A charge settled meanwhile (paid at the desk) gets nothing: its share goes on account as
    the unit's credit. Returns (credit, the charges that could not take their share)."""
    stmt = (select(Charge).where(Charge.id.in_(row.charge_ids)).order_by(Charge.id).with_for_update()
            .execution_options(populate_existing=True))
    found = {c.id: c for c in (await session.execute(stmt)).scalars()}
    owing = [found[i] for i in row.charge_ids if i in found and found[i].outstanding > 0]
    parts, credit = payments.allocate(row.amount, owing, selected=False)
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    booking = payments.Booking(method=PaymentMethod.wechat, reference=transaction_id, amount=row.amount,
                               cashier_id=row.created_by, cashier_session_id=None, series=ReceiptSeries.online)
    payment, _, _ = await payments.book(session, actor=actor, estate=estate, unit_id=row.unit_id, booking=booking,
                                        parts=parts, credit=credit, at=now)
    await audit.apply(session, actor=actor, row=row, action="pay", transaction_id=transaction_id, payment_id=payment.id,
                      at=paid_at, event_at=now)
    short = [i for i in row.charge_ids if i not in {c.id for c, _ in parts}]
    return credit, short


async def handle_notification(session: AsyncSession, *, estate_id: uuid.UUID, headers: dict[str, str], body: bytes,
                              settings: Settings, now: datetime | None = None) -> Answer:
    """Verify, decrypt, check against the order, and book a payment once, whatever repeats or races."""
    now = now or utcnow()
    try:
        creds = await credentials.open_wechat(session, estate_id=estate_id, secret=settings.signing_secret)
    except credentials.ChannelNotConfigured:
        return Answer(404, "no WeChat Pay merchant is configured for this estate")
    except credentials.CredentialsUnreadable:
        # The channel retries a FAIL for a day: entering the credentials again lets it through.
        wechat.log.error("WeChat Pay credentials of estate %s cannot be opened; enter them again", estate_id)
        return Answer(503, "the merchant's credentials cannot be opened")
    note = wechat.verify_notification(creds, headers=headers, body=body, now=now,
                                      tolerance_seconds=settings.channel_notify_tolerance_seconds)
    if isinstance(note, wechat.Refused):
        wechat.log.warning("notification for estate %s refused: %s", estate_id, note.message)
        return Answer(note.status, note.message)
    actor = system_actor(CHANNEL_ACTOR)
    resource = note.resource
    row = await _lock(session, str(resource.get("out_trade_no", "")))
    mismatch = _mismatch(row, estate_id, creds, resource)
    if mismatch is not None:
        await _alert(session, actor=actor, estate_id=estate_id, note=note, reason=mismatch[0],
                     row=row if mismatch[0] is not AlertReason.unknown_order else None, detail=mismatch[1], at=now)
        return Answer()  # received and put before finance; asking again would change nothing
    assert row is not None
    if resource.get("trade_state") != "SUCCESS":
        return Answer()  # only SUCCESS books; the poll of a later slice resolves the rest
    transaction_id = str(resource.get("transaction_id", ""))
    if row.status == ChannelPaymentState.paid and row.transaction_id == transaction_id:
        return Answer()  # the same payment told again: booked once already
    if row.status != ChannelPaymentState.pending:
        await _alert(session, actor=actor, estate_id=estate_id, note=note, reason=AlertReason.not_pending, row=row,
                     detail={"status": row.status, "booked_transaction_id": row.transaction_id}, at=now)
        return Answer()
    credit, short = await _book(session, actor=actor, row=row, transaction_id=transaction_id,
                                paid_at=_paid_at(resource, now), now=now)
    if credit > 0:
        await _alert(session, actor=actor, estate_id=estate_id, note=note, reason=AlertReason.settled_meanwhile, row=row,
                     detail={"credit": str(credit), "charge_ids": [str(i) for i in short], "payment_id": str(row.payment_id)},
                     at=now)
    return Answer()
