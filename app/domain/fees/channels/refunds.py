"""Refunds of channel payments (退款), through the channel that took the money (WeChat Pay API v3).

The receipt is reversed when the money has left, not when the refund is asked: the channel may
refuse it (NOT_ENOUGH), close it, or fail to deliver it (ABNORMAL), and a receipt voided for money
still held could not be un-voided (a void is final and keeps its number). So the refund is
`pending` with the receipt valid, and the channel's verified SUCCESS -- its answer, a
notification, or a query -- voids the receipt by the desk's own rule (receipts.void_receipt:
charges open again, any credit undone, the number kept, audited) in the same transaction that
marks the refund succeeded. While it is pending or abnormal the desk cannot void the receipt.
SUCCESS whose reversal is refused (its credit spent meanwhile) still records the money as gone
and puts an alert before finance; ABNORMAL is an alert too.

Locks: a request holds the channel payment's row, then the receipt's, across the channel call
(bounded by the SDK's timeout), so two requests at once make one refund and a duplicate payment
notification waits and finds the payment paid. The channel's word takes the refund's row, then
the receipt's (the void), then the charges'. The refund number is derived from the payment and
its attempt, so a request whose transaction is lost after the channel took it asks again with
the same number, which the channel answers with the same refund instead of paying twice.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor, system_actor
from app.domain.auth.roles import Perm
from app.domain.base import utcnow
from app.domain.errors import Conflict, DomainError, NotFound
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.fees.channels import booking, credentials, wechat
from app.domain.fees.channels import service as channels
from app.domain.fees.channels.model import AlertReason, Channel, ChannelAlert, ChannelPayment, ChannelPaymentState
from app.domain.fees.channels.refund_model import LIVE, ChannelRefund, ChannelRefundState
from app.domain.fees.channels.refund_schemas import ChannelRefundCreate, ChannelRefundRead
from app.domain.fees.channels.wechat_refunds import Word, ask_refund, query_refund
from app.domain.fees.payments import receipts
from app.domain.fees.payments.model import Payment, Receipt, ReceiptStatus
from app.domain.fees.prepaid import ledger as prepaid_ledger
from app.domain.visibility import Visible, load_visible

FEN = Decimal("100")
REFUND_NOTIFY_PATH = "/api/v1/payment-channels/wechat/refund-notify/{estate_id}"
RS = ChannelRefundState


class ChannelRefundNotFound(NotFound):
    title = "Channel refund not found"
    title_zh = "未找到该线上退款"


class ChannelPaymentNotPaid(Conflict):
    title = "Only a paid channel payment is refunded"
    title_zh = "只有已支付的线上支付才能退款"


class ChannelRefundExists(Conflict):
    title = "This channel payment has a refund already (pending, abnormal or succeeded)"
    title_zh = "该线上支付已有退款（处理中、异常或已成功）"


CHANNEL_REFUND = Visible(model=ChannelRefund, missing=ChannelRefundNotFound)


def _read(row: ChannelRefund) -> ChannelRefundRead:
    return ChannelRefundRead(**row.model_dump(include=set(ChannelRefundRead.model_fields), warnings=False))


def _fen(amount: Decimal) -> int:
    return int(amount * FEN)


async def get_refund(session: AsyncSession, *, actor: Actor, refund_id: uuid.UUID) -> ChannelRefundRead:
    return _read(await load_visible(session, CHANNEL_REFUND, refund_id, actor=actor))


# --- asking -------------------------------------------------------------------------------------

async def _locked_receipt(session: AsyncSession, payment_id: uuid.UUID) -> Receipt:
    stmt = (select(Receipt).where(Receipt.payment_id == payment_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.execute(stmt)).scalar_one()


async def _check_reversible(session: AsyncSession, *, row: ChannelPayment, receipt: Receipt) -> None:
    """Refuse at once what the reversal would refuse later: the payment's credit spent since."""
    payment = await session.get(Payment, row.payment_id)
    assert payment is not None
    if receipt.status != ReceiptStatus.issued or payment.credit <= 0:
        return
    free = await prepaid_ledger.free_money(session, unit_id=payment.unit_id)
    if free.balance < payment.credit:
        raise receipts.CreditAlreadyRefunded(credit=str(payment.credit), balance=str(free.balance))


async def _next_number(session: AsyncSession, row: ChannelPayment) -> str:
    """RF + the order's number + the attempt: the same for a retry of a lost request (see the module)."""
    tried = (await session.execute(select(func.count()).select_from(ChannelRefund)
                                   .where(ChannelRefund.channel_payment_id == row.id))).scalar_one()
    return f"RF{row.out_trade_no[2:]}{tried + 1:02d}"


def refund_notify_url(settings: Settings, estate_id: uuid.UUID) -> str:
    return settings.channel_notify_base_url.rstrip("/") + REFUND_NOTIFY_PATH.format(estate_id=estate_id)


async def request_refund(session: AsyncSession, *, actor: Actor, channel_payment_id: uuid.UUID, data: ChannelRefundCreate,
                         settings: Settings, now: datetime | None = None) -> ChannelRefundRead:
    """Ask the channel to pay the whole payment back; what it answers is applied at once."""
    actor.require(Perm.refunds_make)  # the route asks receipts:void: both of today's rules hold
    now = now or utcnow()
    row = await load_visible(session, channels.CHANNEL_PAYMENT, channel_payment_id, actor=actor, lock=True)
    if row.status != ChannelPaymentState.paid or row.payment_id is None:
        raise ChannelPaymentNotPaid(current=row.status)
    live = (await session.execute(select(ChannelRefund).where(
        ChannelRefund.channel_payment_id == row.id, ChannelRefund.status.in_([s.value for s in LIVE])))).scalars().first()
    if live is not None:
        raise ChannelRefundExists(channel_refund_id=str(live.id), current=live.status)
    receipt = await _locked_receipt(session, row.payment_id)
    await _check_reversible(session, row=row, receipt=receipt)
    if not settings.channel_notify_base_url:
        raise credentials.ChannelNotConfigured("PROPDESK_CHANNEL_NOTIFY_BASE_URL is not set: the channel could not tell us")
    creds = await credentials.open_wechat(session, estate_id=row.estate_id, secret=settings.signing_secret)
    assert actor.id is not None
    refund = ChannelRefund(estate_id=row.estate_id, channel=row.channel, channel_payment_id=row.id, payment_id=row.payment_id,
                           receipt_id=receipt.id, unit_id=row.unit_id, out_refund_no=await _next_number(session, row),
                           amount=row.amount, reason=data.reason, requested_by=actor.id, created_at=now)
    session.add(refund)
    await session.flush()
    await audit.record(session, actor=actor, action="channel_refund.create", row=refund)
    word = await ask_refund(creds, gateway=settings.wechatpay_gateway, notify_url=refund_notify_url(settings, row.estate_id),
                            out_refund_no=refund.out_refund_no, transaction_id=row.transaction_id or "",
                            reason=data.reason, refund_fen=_fen(refund.amount), total_fen=_fen(row.amount))
    await _apply_word(session, actor=actor, refund=refund, word=word, now=now)
    return _read(refund)


async def query(session: AsyncSession, *, actor: Actor, refund_id: uuid.UUID, settings: Settings,
                now: datetime | None = None) -> ChannelRefundRead:
    """Ask the channel where a pending or abnormal refund stands, and apply its answer."""
    refund = await load_visible(session, CHANNEL_REFUND, refund_id, actor=actor, lock=True)
    if refund.status in (RS.pending, RS.abnormal):
        creds = await credentials.open_wechat(session, estate_id=refund.estate_id, secret=settings.signing_secret)
        word = await query_refund(creds, gateway=settings.wechatpay_gateway, out_refund_no=refund.out_refund_no)
        if word.unanswered:
            raise wechat.ChannelUnavailable(reason=word.unanswered)
        await _apply_word(session, actor=actor, refund=refund, word=word, now=now or utcnow())
    return _read(refund)


async def _apply_word(session: AsyncSession, *, actor: Actor, refund: ChannelRefund, word: Word, now: datetime) -> None:
    """The channel's answer to a request or a query: a refund's state, a refusal, or silence."""
    if word.unanswered or word.status >= 500 or word.status == 429:
        # Not known to be taken, nor refused: pending; the notification or a query resolves it.
        await audit.apply(session, actor=actor, row=refund, action="acknowledge", refund_id=None,
                          channel_status=str(word.body.get("code", "")) or "NO_ANSWER", event_at=now)
    elif word.status >= 400 and refund.status != RS.pending:
        return  # an abnormal refund stays as the channel last described it
    elif word.status >= 400:
        # Refused (NOT_ENOUGH, USER_ACCOUNT_ABNORMAL...), or unknown to the channel on a query:
        # nothing was paid out, the receipt stays valid, and another refund may be asked.
        await audit.apply(session, actor=actor, row=refund, action="fail", code=str(word.body.get("code", word.status)),
                          reason=str(word.body.get("message", "")), event_at=now)
    else:
        await apply_state(session, actor=actor, refund=refund, said=word.body, key=f"{refund.out_refund_no}:answer", now=now)


# --- the channel's word on a refund -----------------------------------------------------------

async def _alert(session: AsyncSession, *, actor: Actor, refund: ChannelRefund | None, estate_id: uuid.UUID, key: str,
                 reason: AlertReason, said: dict[str, Any], detail: dict[str, Any], now: datetime) -> None:
    """Put it before finance, once per word (`key`) and reason, audited, with its event."""
    alert_id = uuid.uuid4()
    about: dict[str, Any] = {"out_refund_no": str(said.get("out_refund_no", "")),
                             "channel_refund_id": str(refund.id) if refund else None, **detail}
    values: dict[str, Any] = {"id": alert_id, "created_at": now, "estate_id": estate_id, "channel": Channel.wechat.value,
              "notification_id": key[:64], "reason": reason.value,
              "channel_payment_id": refund.channel_payment_id if refund else None,
              "out_trade_no": str(said.get("out_trade_no", ""))[:64], "transaction_id": str(said.get("transaction_id", ""))[:64],
              "detail": about, "at": now}
    stmt = insert(ChannelAlert).values(**values).on_conflict_do_nothing().returning(ChannelAlert.id)
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return
    await audit.record(session, actor=actor, action="channel.alert", entity="channel_alert", entity_id=alert_id,
                       estate_id=estate_id, after={k: v for k, v in values.items() if k != "created_at"})
    await outbox.emit(session, estate_id=estate_id, type=EventType.channel_alert, entity="channel_alert", entity_id=alert_id,
                      data={"reason": reason.value, "channel": Channel.wechat.value, **about}, at=now)


async def _reverse(session: AsyncSession, *, actor: Actor, refund: ChannelRefund, said: dict[str, Any],
                   now: datetime) -> bool | None:
    """Void the receipt by the desk's rule; False if it was void already, None (and an alert) if refused."""
    receipt = await _locked_receipt(session, refund.payment_id)
    if receipt.status == ReceiptStatus.void:
        return False
    try:
        async with session.begin_nested():
            await receipts.void_receipt(session, actor=actor, receipt_id=receipt.id, now=now, channel_refund_id=refund.id,
                                        reason=f"微信支付退款 {refund.out_refund_no}：{refund.reason}"[:500])
    except DomainError as exc:
        await _alert(session, actor=actor, refund=refund, estate_id=refund.estate_id, key=f"{refund.out_refund_no}:reverse",
                     reason=AlertReason.refund_not_reversed, said=said,
                     detail={"problem": type(exc).__name__, "receipt_id": str(receipt.id)}, now=now)
        return None
    return True


def _success_time(said: dict[str, Any], default: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(str(said.get("success_time")))
    except ValueError:
        return default
    return at if at.tzinfo is not None else default


async def apply_state(session: AsyncSession, *, actor: Actor, refund: ChannelRefund, said: dict[str, Any], key: str,
                      now: datetime) -> None:
    """Apply the channel's verified state of a refund (SUCCESS, CLOSED, ABNORMAL, PROCESSING); the same word twice moves nothing."""
    state = str(said.get("status") or said.get("refund_status") or "")
    refund_id = str(said.get("refund_id") or "") or None
    targets = {"SUCCESS": RS.succeeded, "CLOSED": RS.closed, "ABNORMAL": RS.abnormal}
    if state not in targets:
        if refund.status == RS.pending and state:
            await audit.apply(session, actor=actor, row=refund, action="acknowledge", refund_id=refund_id, channel_status=state)
        return
    if refund.status == targets[state]:
        return  # told again: applied once already
    if (refund.status, state) not in {(RS.pending, "SUCCESS"), (RS.abnormal, "SUCCESS"), (RS.pending, "CLOSED"),
                                      (RS.abnormal, "CLOSED"), (RS.pending, "ABNORMAL")}:
        # Money said gone for a refund we hold refused or closed: the receipt was never reversed.
        reason = AlertReason.refund_not_reversed if state == "SUCCESS" else AlertReason.refund_mismatch
        await _alert(session, actor=actor, refund=refund, estate_id=refund.estate_id, key=key, reason=reason, said=said,
                     detail={"status": refund.status, "said": state}, now=now)
        return
    if state == "SUCCESS":
        reversed_now = await _reverse(session, actor=actor, refund=refund, said=said, now=now)
        await audit.apply(session, actor=actor, row=refund, action="succeed", at=_success_time(said, now), refund_id=refund_id,
                          account=str(said.get("user_received_account", "")), receipt_reversed=reversed_now, event_at=now)
    elif state == "CLOSED":
        await audit.apply(session, actor=actor, row=refund, action="close", reason="the channel closed the refund", event_at=now)
    else:
        await audit.apply(session, actor=actor, row=refund, action="mark_abnormal", event_at=now,
                          reason=f"退款异常，退往 {said.get('user_received_account', '')} 未到账：请在商户平台处理"[:300])
        # Once per refund whichever way ABNORMAL arrives: the money is neither ours nor the owner's.
        await _alert(session, actor=actor, refund=refund, estate_id=refund.estate_id, key=f"{refund.out_refund_no}:abnormal",
                     reason=AlertReason.refund_abnormal, said=said,
                     detail={"user_received_account": str(said.get("user_received_account", ""))}, now=now)


def _mismatch(refund: ChannelRefund | None, payment: ChannelPayment | None, estate_id: uuid.UUID,
              creds: credentials.WechatCredentials, said: dict[str, Any]) -> tuple[AlertReason, dict[str, Any]] | None:
    if refund is None or payment is None or refund.estate_id != estate_id:
        return AlertReason.refund_unknown, {}
    amount = said.get("amount") or {}
    if (said.get("mchid") != creds.mchid or said.get("out_trade_no") != payment.out_trade_no
            or amount.get("refund") != _fen(refund.amount) or amount.get("total") != _fen(payment.amount)):
        return AlertReason.refund_mismatch, {"mchid": said.get("mchid"), "refund": amount.get("refund"),
                                             "total": amount.get("total"), "asked_fen": _fen(refund.amount)}
    return None


async def handle_notification(session: AsyncSession, *, estate_id: uuid.UUID, headers: dict[str, str], body: bytes,
                              settings: Settings, now: datetime | None = None) -> channels.Answer:
    """A refund notification (REFUND.SUCCESS / ABNORMAL / CLOSED): verified as a payment's, applied once."""
    now = now or utcnow()
    try:
        creds = await credentials.open_wechat(session, estate_id=estate_id, secret=settings.signing_secret)
    except credentials.ChannelNotConfigured:
        return channels.Answer(404, "no WeChat Pay merchant is configured for this estate")
    except credentials.CredentialsUnreadable:
        wechat.log.error("WeChat Pay credentials of estate %s cannot be opened; enter them again", estate_id)
        return channels.Answer(503, "the merchant's credentials cannot be opened")
    note = wechat.verify_notification(creds, headers=headers, body=body, now=now,
                                      tolerance_seconds=settings.channel_notify_tolerance_seconds)
    if isinstance(note, wechat.Refused):
        wechat.log.warning("refund notification for estate %s refused: %s", estate_id, note.message)
        return channels.Answer(note.status, note.message)
    if not note.event_type.startswith("REFUND."):
        return channels.Answer(400, "not a refund notification: payments are told at /payment-channels/wechat/notify")
    actor, said = system_actor(booking.ACTORS[Channel.wechat]), note.resource
    stmt = (select(ChannelRefund).where(ChannelRefund.channel == Channel.wechat.value,
                                        ChannelRefund.out_refund_no == str(said.get("out_refund_no", "")))
            .with_for_update().execution_options(populate_existing=True))
    refund = (await session.execute(stmt)).scalar_one_or_none()
    payment = await session.get(ChannelPayment, refund.channel_payment_id) if refund else None
    mismatch = _mismatch(refund, payment, estate_id, creds, said)
    if mismatch is not None:
        known = refund if mismatch[0] is not AlertReason.refund_unknown else None
        await _alert(session, actor=actor, refund=known, estate_id=estate_id, key=note.id, reason=mismatch[0], said=said,
                     detail=mismatch[1], now=now)
        return channels.Answer()  # put before finance; asking again would change nothing
    assert refund is not None
    await apply_state(session, actor=actor, refund=refund, said=said, key=note.id, now=now)
    return channels.Answer()
