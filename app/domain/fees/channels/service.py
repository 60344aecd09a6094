"""Channel payments: the QR order for a unit's charges, and the channel's word that it was paid.

The order is placed with the channel the desk chose (WeChat Pay Native, Alipay precreate); a
notification is verified in its channel's scheme (wechat.py, alipay.py) and then checked and
booked by the one path every channel shares (booking.py).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.errors import NotFound
from app.domain.fees.channels import alipay, booking, credentials, wechat
from app.domain.fees.channels.model import Channel, ChannelPayment
from app.domain.fees.channels.schemas import ChannelPaymentCreate, ChannelPaymentRead
from app.domain.fees.payments import service as payments
from app.domain.registry import units
from app.domain.registry.model import Estate
from app.domain.registry.schemas import UnitRead
from app.domain.visibility import Visible, load_visible

FEN = booking.FEN
NOTIFY_PATH = "/api/v1/payment-channels/{channel}/notify/{estate_id}"


def notify_url(settings: Settings, estate_id: uuid.UUID, channel: Channel = Channel.wechat) -> str:
    return settings.channel_notify_base_url.rstrip("/") + NOTIFY_PATH.format(channel=channel.value, estate_id=estate_id)


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
    """Price the charges at what they owe now, place the channel's QR order, keep it pending."""
    now = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise payments.NoCashierForPayment()
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    if not settings.channel_notify_base_url:
        raise credentials.ChannelNotConfigured("PROPDESK_CHANNEL_NOTIFY_BASE_URL is not set: the channel could not tell us")
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    opened = (await credentials.open_wechat(session, estate_id=estate.id, secret=settings.signing_secret)
              if data.channel is Channel.wechat else
              await credentials.open_alipay(session, estate_id=estate.id, secret=settings.signing_secret))
    # Read, not locked: the channel is called next, and the desk must not wait on it.
    charges = await payments.selected_charges(session, unit_id=unit.id, estate_id=unit.estate_id,
                                              charge_ids=data.charge_ids, lock=False)
    amount = sum((c.outstanding for c in charges), Decimal("0.00"))
    expires_at = now + timedelta(minutes=settings.channel_qr_valid_minutes)
    out_trade_no = "PD" + uuid.uuid4().hex[:24].upper()
    code_url = await _order(opened, settings=settings, estate=estate, unit=unit, out_trade_no=out_trade_no, amount=amount,
                            expires_at=expires_at)
    row = ChannelPayment(estate_id=estate.id, unit_id=unit.id, channel=data.channel, kind=data.kind, out_trade_no=out_trade_no,
                         amount=amount, charge_ids=list(data.charge_ids), code_url=code_url, expires_at=expires_at,
                         created_by=actor.id, created_at=now)
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="channel_payment.create", row=row)
    return _read(row)


async def _order(opened: credentials.WechatCredentials | credentials.AlipayCredentials, *, settings: Settings, estate: Estate,
                 unit: UnitRead, out_trade_no: str, amount: Decimal, expires_at: datetime) -> str:
    """Place the QR order with the channel; the QR code's content."""
    subject = f"物业费 {unit.label}"
    if isinstance(opened, credentials.AlipayCredentials):
        return await alipay.precreate(opened, gateway=settings.alipay_gateway, out_trade_no=out_trade_no,
                                      notify_url=notify_url(settings, estate.id, Channel.alipay), subject=subject[:128],
                                      total_amount=amount, time_expire=expires_at)
    return await wechat.native_order(
        opened, gateway=settings.wechatpay_gateway, notify_url=notify_url(settings, estate.id), out_trade_no=out_trade_no,
        description=subject[:40], total_fen=int(amount * FEN),
        time_expire=expires_at.astimezone(estate_time.estate_zone(estate)).isoformat(timespec="seconds"))


# --- the channel's notification ---------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """What the channel is answered: 200 {"code": "SUCCESS"}, or 4xx {"code": "FAIL", "message": ...}."""

    status: int = 200
    message: str = ""

    def body(self) -> dict[str, str]:
        return {"code": "SUCCESS"} if self.status == 200 else {"code": "FAIL", "message": self.message}


async def handle_notification(session: AsyncSession, *, estate_id: uuid.UUID, headers: dict[str, str], body: bytes,
                              settings: Settings, now: datetime | None = None) -> Answer:
    """WeChat Pay's notification: verify, decrypt, and settle once through the shared booking path."""
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
    # A mismatch is put before finance and answered SUCCESS: asking again would change nothing.
    await booking.settle(session, estate_id=estate_id, word=wechat.word(note), merchant=wechat.merchant_of(creds), now=now)
    return Answer()


async def handle_alipay_notification(session: AsyncSession, *, estate_id: uuid.UUID, form: dict[str, str],
                                     settings: Settings, now: datetime | None = None) -> Answer:
    """Alipay's asynchronous notification: verify its RSA2 sign, and settle once through the shared booking path.

    Alipay reads only the body: `success` ends its retries, anything else (`failure`) makes it
    post again, up to 8 times over 25 hours."""
    now = now or utcnow()
    try:
        creds = await credentials.open_alipay(session, estate_id=estate_id, secret=settings.signing_secret)
    except credentials.ChannelNotConfigured:
        return Answer(404, "no Alipay app is configured for this estate")
    except credentials.CredentialsUnreadable:
        alipay.log.error("Alipay credentials of estate %s cannot be opened; enter them again", estate_id)
        return Answer(503, "the app's credentials cannot be opened")
    word = alipay.verify_notification(creds, form)
    if isinstance(word, alipay.Refused):
        alipay.log.warning("alipay notification for estate %s refused: %s", estate_id, word.message)
        return Answer(word.status, word.message)
    await booking.settle(session, estate_id=estate_id, word=word, merchant=alipay.merchant_of(creds), now=now)
    return Answer()
