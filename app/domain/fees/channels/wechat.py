"""WeChat Pay API v3 through wechatpayv3: a Native order (扫码支付), a payment code at the desk
(付款码支付, codepay), the order's query, close and reverse, and a verified notification.

The SDK does the channel's documented scheme: it signs each request (Authorization:
WECHATPAY2-SHA256-RSA2048 over method, path, timestamp, nonce and body with the merchant key),
verifies each answer's Wechatpay-Signature with the platform public key, and verifies and
decrypts notifications (AEAD_AES_256_GCM with the APIv3 key). It does not look at a
notification's age or its serial beyond choosing the key, so `verify_notification` checks
those first.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from wechatpayv3.async_ import AsyncWeChatPay, WeChatPayType

from app.domain.fees.channels.booking import TradeState, Word
from app.domain.fees.channels.credentials import WechatCredentials

# Re-exported: the errors were first defined here, and callers name them wechat.ChannelRefused.
from app.domain.fees.channels.errors import ChannelRefused as ChannelRefused
from app.domain.fees.channels.errors import ChannelUnavailable as ChannelUnavailable
from app.domain.fees.channels.model import Channel
from app.domain.fees.channels.verdict import Outcome, Verdict

log = logging.getLogger("propdesk.channels.wechat")
LIVE_GATEWAY = "https://api.mch.weixin.qq.com"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
TIMEOUT = (5.0, 15.0)  # connect, read: a desk waits for the QR code


class Client(AsyncWeChatPay):
    """wechatpayv3's async client, talking to `gateway`.

    The SDK has no parameter for its API address: AsyncCore sets `_gate_way` to the live address
    in its constructor and every request (and the SDK's own download_bill) reads it from there.
    Setting it once, right after construction, is the narrowest change that lets tests use a
    local fake channel; in production `gateway` is the live address and nothing changes.
    """

    def __init__(self, creds: WechatCredentials, *, gateway: str = LIVE_GATEWAY, notify_url: str | None = None) -> None:
        super().__init__(wechatpay_type=WeChatPayType.NATIVE, mchid=creds.mchid, private_key=creds.merchant_private_key,
                         cert_serial_no=creds.merchant_serial_no, appid=creds.appid, apiv3_key=creds.apiv3_key,
                         notify_url=notify_url, public_key=creds.platform_public_key,
                         public_key_id=creds.platform_public_key_id, timeout=TIMEOUT)
        self._core._gate_way = gateway.rstrip("/")


async def native_order(creds: WechatCredentials, *, gateway: str, notify_url: str, out_trade_no: str, description: str,
                       total_fen: int, time_expire: str) -> str:
    """Place the Native order; its code_url (the QR code's content)."""
    try:
        async with Client(creds, gateway=gateway, notify_url=notify_url) as pay:
            status, text = await pay.pay(description=description, out_trade_no=out_trade_no, time_expire=time_expire,
                                         amount={"total": total_fen, "currency": "CNY"}, pay_type=WeChatPayType.NATIVE)
    except httpx.HTTPError as exc:
        raise ChannelUnavailable(reason=type(exc).__name__) from None
    except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception for an answer it cannot verify
        log.warning("wechat pay answer refused: %s", exc)
        raise ChannelUnavailable(reason="answer not verified") from None
    answer = _json(text)
    if status != 200 or not answer.get("code_url"):
        raise ChannelRefused(f"WeChat Pay answered {status}: {answer.get('message', '')}"[:300],
                             channel_code=str(answer.get("code", "")), status=status)
    return str(answer["code_url"])


# --- an order's fate: codepay, query, close, reverse ----------------------------------------
# A transaction's trade_state in the office's words. REFUND: it was paid, then (partly) refunded.
TRADE_STATES = {"SUCCESS": Outcome.paid, "REFUND": Outcome.paid, "NOTPAY": Outcome.waiting,
                "USERPAYING": Outcome.waiting, "CLOSED": Outcome.closed, "REVOKED": Outcome.closed,
                "PAYERROR": Outcome.failed}
# Codepay errors after which the order's fate is not known: the channel's advice is to query it.
UNSETTLED_CODES = {"SYSTEM_ERROR", "SYSTEMERROR", "BANK_ERROR", "BANKERROR", "FREQUENCY_LIMITED", "ORDER_NOT_EXIST"}
NO_ANSWER = Verdict(outcome=Outcome.unknown, reason="no answer from WeChat Pay that could be verified")
Call = Callable[[Client], Awaitable[tuple[int, Any]]]


async def _ask(creds: WechatCredentials, *, gateway: str, call: Call) -> tuple[int, dict[str, Any]] | None:
    """The channel's (status, JSON answer), or None when there is none to believe.

    The SDK verifies the signature of every 2xx answer (an unverified one raises); its error
    answers (4xx, 5xx) it passes on unverified, so an error is never taken as proof of payment."""
    try:
        async with Client(creds, gateway=gateway) as pay:
            status, text = await call(pay)
    except httpx.HTTPError as exc:
        log.warning("wechat pay did not answer: %s", type(exc).__name__)
        return None
    except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception for an answer it cannot verify
        log.warning("wechat pay answer refused: %s", exc)
        return None
    return status, _json(text)


def _words(answer: dict[str, Any], status: int) -> str:
    return f"{answer.get('code') or status}: {answer.get('message', '')}".strip(" :")[:200]


def _transaction(answer: dict[str, Any]) -> Verdict:
    state = str(answer.get("trade_state"))
    outcome = TRADE_STATES.get(state, Outcome.unknown)
    words = f"{state}: {answer.get('trade_state_desc', '')}".strip(" :")[:200]
    if outcome is Outcome.paid:
        # The query's transaction is what a notification's resource carries: the same checks, the same booking.
        return Verdict(outcome=outcome, word=transaction_word(answer, notification_id=f"query:{answer.get('out_trade_no', '')}"))
    return Verdict(outcome=outcome, reason=words)


async def codepay(creds: WechatCredentials, *, gateway: str, out_trade_no: str, description: str, total_fen: int,
                  auth_code: str, store_id: str) -> Verdict:
    """Charge the owner's payment code: paid, waiting (USERPAYING: entering a password), failed
    (AUTH_CODE_INVALID, NOT_ENOUGH...: nothing taken), or unknown (ask again by querying)."""
    answer = await _ask(creds, gateway=gateway, call=lambda pay: pay.pay(
        description=description, out_trade_no=out_trade_no, amount={"total": total_fen, "currency": "CNY"},
        payer={"auth_code": auth_code}, scene_info={"store_info": {"out_id": store_id}}, pay_type=WeChatPayType.CODEPAY))
    if answer is None:
        return NO_ANSWER
    status, body = answer
    if 200 <= status < 300 and body.get("trade_state"):
        return _transaction(body)
    code = str(body.get("code", ""))
    if status == 202 or code == "USERPAYING":
        return Verdict(outcome=Outcome.waiting, reason=_words(body, status) or "USERPAYING")
    if status >= 500 or status == 429 or not code or code in UNSETTLED_CODES:
        return Verdict(outcome=Outcome.unknown, reason=_words(body, status))
    return Verdict(outcome=Outcome.failed, reason=_words(body, status))


async def query(creds: WechatCredentials, *, gateway: str, out_trade_no: str) -> Verdict:
    """The order as the channel has it now (GET /v3/pay/transactions/out-trade-no/{no}?mchid=)."""
    answer = await _ask(creds, gateway=gateway, call=lambda pay: pay.query(out_trade_no=out_trade_no))
    if answer is None:
        return NO_ANSWER
    status, body = answer
    if status == 200 and body.get("trade_state"):
        return _transaction(body)
    # ORDER_NOT_EXIST and the rest say nothing certain of the money: decide after a close or reverse.
    return Verdict(outcome=Outcome.unknown, reason=_words(body, status))


async def close(creds: WechatCredentials, *, gateway: str, out_trade_no: str) -> Verdict:
    """Close an unpaid order (204); an order the channel never had is closed as well."""
    answer = await _ask(creds, gateway=gateway, call=lambda pay: pay.close(out_trade_no=out_trade_no))
    if answer is None:
        return NO_ANSWER
    status, body = answer
    if status in (200, 204) or body.get("code") == "ORDER_NOT_EXIST":
        return Verdict(outcome=Outcome.closed, reason="CLOSED: closed at WeChat Pay")
    return Verdict(outcome=Outcome.unknown, reason=_words(body, status))  # ORDERPAID and the like: query again


async def reverse(creds: WechatCredentials, *, gateway: str, out_trade_no: str) -> Verdict:
    """Reverse (撤销) a payment-code order: unpaid it is closed, paid the money goes back to the owner."""
    answer = await _ask(creds, gateway=gateway, call=lambda pay: pay.codepay_reverse(out_trade_no=out_trade_no))
    if answer is None:
        return NO_ANSWER
    status, body = answer
    if status in (200, 204):
        return Verdict(outcome=Outcome.closed, reason="REVOKED: reversed at WeChat Pay")
    return Verdict(outcome=Outcome.unknown, reason=_words(body, status))


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Refused:
    """Why a notification was not believed: answered 4xx FAIL, nothing written."""

    status: int
    message: str


@dataclass(frozen=True)
class Notification:
    id: str
    event_type: str
    resource: dict[str, Any]


HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial", "Wechatpay-Signature-Type")


def verify_notification(creds: WechatCredentials, *, headers: dict[str, str], body: bytes, now: datetime,
                        tolerance_seconds: int) -> Notification | Refused:
    """The notification, verified and decrypted; or why it is refused.

    Checked here before the SDK runs: the signature type, that the serial names the platform key
    configured for the estate, and that the timestamp is within `tolerance_seconds` of now (a
    replayed old notification is refused even with a good signature)."""
    signed = {name: headers.get(name.lower(), "") for name in HEADERS}
    if not signed["Wechatpay-Signature"] or signed["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
        return Refused(401, "not signed with WECHATPAY2-SHA256-RSA2048")
    if signed["Wechatpay-Serial"] != creds.platform_public_key_id:
        return Refused(401, "Wechatpay-Serial is not the platform key configured for this merchant")
    try:
        age = abs(now.timestamp() - int(signed["Wechatpay-Timestamp"]))
    except ValueError:
        return Refused(401, "Wechatpay-Timestamp is not a number")
    if age > tolerance_seconds:
        return Refused(401, "Wechatpay-Timestamp is outside the accepted window")
    try:
        # The SDK verifies the signature over "timestamp\nnonce\nbody\n" and decrypts the resource.
        data = Client(creds).callback(signed, body)
    except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception for an unknown algorithm
        log.warning("wechat pay notification refused: %s", exc)
        data = None
    if not data or not isinstance(data.get("resource"), dict):
        return Refused(401, "signature or resource not valid")
    return Notification(id=str(data.get("id", "")), event_type=str(data.get("event_type", "")), resource=data["resource"])


def merchant_of(creds: WechatCredentials) -> dict[str, Any]:
    return {"mchid": creds.mchid, "appid": creds.appid}


def _paid_at(resource: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(resource.get("success_time")))
    except ValueError:
        return None


def word(note: Notification) -> Word:
    """What the decrypted transaction says, in the terms the booking path checks."""
    return transaction_word(note.resource, notification_id=note.id)


def transaction_word(resource: dict[str, Any], *, notification_id: str) -> Word:
    """A transaction (a notification's resource, or a query's or codepay's answer) as a Word."""
    amount = resource.get("amount") or {}
    total = amount.get("total")
    paid = TRADE_STATES.get(str(resource.get("trade_state"))) is Outcome.paid
    return Word(channel=Channel.wechat, notification_id=notification_id, out_trade_no=str(resource.get("out_trade_no", "")),
                transaction_id=str(resource.get("transaction_id", "")), state=TradeState.paid if paid else TradeState.open,
                merchant={"mchid": resource.get("mchid"), "appid": resource.get("appid")},
                amount=Decimal(total) / 100 if type(total) is int else None, currency=amount.get("currency"),
                amount_detail={"total": total, "currency": amount.get("currency")}, paid_at=_paid_at(resource))
