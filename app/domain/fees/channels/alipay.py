"""Alipay through python-alipay-sdk: the QR order (alipay.trade.precreate, 当面付扫码), the counter
barcode (alipay.trade.pay, scene bar_code), query, close and cancel, and the verified notification.

The SDK does the channel's documented scheme (public-key mode, RSA2): it signs each request
with the app private key (SHA256withRSA over every parameter but `sign`, sorted, as k=v joined
by &), sends it to the gateway, verifies the answer's `sign` over the exact text of its
`<method>_response` object with the Alipay public key, and verifies a notification's sign over
its sorted parameters without sign and sign_type. Two things we set around it: its gateway (it
knows only the live and the sandbox address) and its `timestamp`, which it takes from the
server's local clock while Alipay reads it as GMT+8 and refuses one 30 minutes off. The SDK is
synchronous (urllib): each call runs in a worker thread, so the event loop never waits on it.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.fees.channels.booking import TradeState, Word
from app.domain.fees.channels.credentials import AlipayCredentials
from app.domain.fees.channels.errors import ChannelRefused, ChannelUnavailable
from app.domain.fees.channels.model import Channel
from app.domain.fees.channels.schemas import ALIPAY_AUTH_CODE

log = logging.getLogger("propdesk.channels.alipay")
LIVE_GATEWAY = "https://openapi.alipay.com/gateway.do"
BEIJING = estate_time.zone("Asia/Shanghai")  # Alipay's times (timestamp, time_expire, gmt_payment) are GMT+8
SECOND = "%Y-%m-%d %H:%M:%S"
TIMEOUT_SECONDS = 15  # a desk waits for the QR code
SUCCESS, PAYING, UNKNOWN = "10000", "10003", "20000"
PAID_STATES = ("TRADE_SUCCESS", "TRADE_FINISHED")
# An owner's Alipay payment code (付款码) as the scanner reads it: 16 to 24 digits from 25 to 30.
AUTH_CODE_PATTERN = ALIPAY_AUTH_CODE


def beijing(at: datetime) -> str:
    return estate_time.local_time(at, BEIJING).strftime(SECOND)


class Client(AliPay):
    """python-alipay-sdk's client (public-key mode, RSA2), talking to `gateway`.

    The SDK sets `_gateway` in its constructor to the live address (or the sandbox's with
    debug=True) and every call reads it from there: setting it once after construction lets
    tests use a local fake gateway; in production it is the live address and nothing changes.
    """

    def __init__(self, creds: AlipayCredentials, *, gateway: str = LIVE_GATEWAY, notify_url: str | None = None) -> None:
        super().__init__(appid=creds.app_id, app_notify_url=notify_url, app_private_key_string=creds.app_private_key,
                         alipay_public_key_string=creds.alipay_public_key, sign_type="RSA2",
                         config=AliPayConfig(timeout=TIMEOUT_SECONDS))
        self._gateway = gateway

    def build_body(self, method: str, biz_content: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().build_body(method, biz_content, **kwargs)
        data["timestamp"] = beijing(utcnow())  # the SDK's is the server's local time, which may not be GMT+8
        return data


@dataclass(frozen=True, kw_only=True)
class Trade:
    """Alipay's verified answer on one trade: code 10000 success, 10003 the owner is paying,
    20000 unknown (query it), 40004 a business failure (sub_code says which)."""

    code: str
    sub_code: str = ""
    message: str = ""
    out_trade_no: str = ""
    trade_no: str = ""
    trade_status: str = ""
    total_amount: Decimal | None = None
    paid_at: datetime | None = None
    action: str = ""  # alipay.trade.cancel: "close" (nothing was paid) or "refund" (the payment went back)

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS

    @property
    def paid(self) -> bool:
        return self.trade_status in PAID_STATES


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _time(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), SECOND).replace(tzinfo=BEIJING)
    except ValueError:
        return None


def _trade(answer: dict[str, Any]) -> Trade:
    return Trade(code=str(answer.get("code", "")), sub_code=str(answer.get("sub_code", "")),
                 message=str(answer.get("sub_msg") or answer.get("msg") or ""), out_trade_no=str(answer.get("out_trade_no", "")),
                 trade_no=str(answer.get("trade_no") or ""), trade_status=str(answer.get("trade_status", "")),
                 total_amount=_amount(answer.get("total_amount")) if "total_amount" in answer else None,
                 paid_at=_time(answer.get("gmt_payment") or answer.get("send_pay_date")), action=str(answer.get("action", "")))


def _unsigned(exc: AliPayException) -> ChannelRefused:
    """The gateway's unsigned error (a bad request signature, another app id): its sub_code, for the office."""
    raw = str(getattr(exc, "_AliPayException__message", ""))
    try:
        found = next((v for v in json.loads(raw).values() if isinstance(v, dict)), {})
    except (ValueError, AttributeError):
        found = {}
    code, sub_code = str(found.get("code", "")), str(found.get("sub_code", ""))
    return ChannelRefused(f"Alipay answered {code} {sub_code}: {found.get('sub_msg', '')}"[:300],
                          channel_code=sub_code or code)


async def _run(call: Callable[[], dict[str, Any]], api: str) -> dict[str, Any]:
    """Run one SDK call in a worker thread; its verified answer, or why there is none."""
    try:
        return await asyncio.to_thread(call)
    except AliPayValidationError:
        log.warning("alipay answer to %s not verified", api)
        raise ChannelUnavailable(reason="answer not verified") from None
    except AliPayException as exc:
        raise _unsigned(exc) from None
    except (OSError, ValueError) as exc:  # URLError and timeouts are OSErrors; an answer that is not JSON, ValueError
        raise ChannelUnavailable(reason=type(exc).__name__) from None


def _refused(answer: dict[str, Any]) -> ChannelRefused:
    return ChannelRefused(f"Alipay answered {answer.get('code')} {answer.get('sub_code', '')}: {answer.get('sub_msg', '')}"[:300],
                          channel_code=str(answer.get("sub_code") or answer.get("code", "")))


async def precreate(creds: AlipayCredentials, *, gateway: str, notify_url: str, out_trade_no: str, subject: str,
                    total_amount: Decimal, time_expire: datetime) -> str:
    """Place the QR order (当面付 precreate); its qr_code, valid until `time_expire`."""
    def call() -> dict[str, Any]:
        client = Client(creds, gateway=gateway, notify_url=notify_url)
        answer: dict[str, Any] = client.api_alipay_trade_precreate(
            subject=subject, out_trade_no=out_trade_no, total_amount=f"{total_amount:.2f}", notify_url=notify_url,
            product_code="FACE_TO_FACE_PAYMENT", time_expire=beijing(time_expire))
        return answer
    answer = await _run(call, "alipay.trade.precreate")
    if answer.get("code") != SUCCESS or not answer.get("qr_code") or answer.get("out_trade_no") != out_trade_no:
        raise _refused(answer)
    return str(answer["qr_code"])


async def barcode_pay(creds: AlipayCredentials, *, gateway: str, notify_url: str, out_trade_no: str, auth_code: str,
                      subject: str, total_amount: Decimal, time_expire: datetime) -> Trade:
    """Take the owner's payment code at the counter (条码支付, scene bar_code).

    10000: paid. 10003: the owner is confirming (a password): query until paid, or cancel at the
    end of the window. 20000 or no answer: unknown, query (and cancel if it stays unknown).
    40004: failed, with the sub_code (ACQ.PAYMENT_AUTH_CODE_INVALID, ACQ.BUYER_BALANCE_NOT_ENOUGH...)."""
    def call() -> dict[str, Any]:
        client = Client(creds, gateway=gateway, notify_url=notify_url)
        answer: dict[str, Any] = client.api_alipay_trade_pay(
            out_trade_no=out_trade_no, scene="bar_code", auth_code=auth_code, subject=subject, notify_url=notify_url,
            total_amount=f"{total_amount:.2f}", time_expire=beijing(time_expire))
        return answer
    return _trade(await _run(call, "alipay.trade.pay"))


async def query(creds: AlipayCredentials, *, gateway: str, out_trade_no: str) -> Trade:
    """The trade as Alipay knows it. A QR order not yet scanned is 40004 ACQ.TRADE_NOT_EXIST."""
    def call() -> dict[str, Any]:
        answer: dict[str, Any] = Client(creds, gateway=gateway).api_alipay_trade_query(out_trade_no=out_trade_no)
        return answer
    return _trade(await _run(call, "alipay.trade.query"))


async def close(creds: AlipayCredentials, *, gateway: str, out_trade_no: str) -> Trade:
    """Close an unpaid trade (WAIT_BUYER_PAY). One never scanned answers ACQ.TRADE_NOT_EXIST: nothing to close."""
    def call() -> dict[str, Any]:
        answer: dict[str, Any] = Client(creds, gateway=gateway).api_alipay_trade_close(out_trade_no=out_trade_no)
        return answer
    return _trade(await _run(call, "alipay.trade.close"))


async def cancel(creds: AlipayCredentials, *, gateway: str, out_trade_no: str) -> Trade:
    """Reverse a counter payment whose outcome is unknown (撤销): unpaid, it closes; paid, the money goes back.

    `action` says which; retry_flag Y asks to call again."""
    def call() -> dict[str, Any]:
        answer: dict[str, Any] = Client(creds, gateway=gateway).api_alipay_trade_cancel(out_trade_no=out_trade_no)
        return answer
    return _trade(await _run(call, "alipay.trade.cancel"))


# --- the asynchronous notification -----------------------------------------------------------

@dataclass(frozen=True)
class Refused:
    """Why a notification was not believed: answered "failure", nothing written."""

    status: int
    message: str


def merchant_of(creds: AlipayCredentials) -> dict[str, Any]:
    return {"app_id": creds.app_id, "seller_id": creds.seller_id}


def verify_notification(creds: AlipayCredentials, form: dict[str, str]) -> Word | Refused:
    """The notification, its sign verified with the Alipay public key; or why it is refused."""
    params = dict(form)
    sign = params.pop("sign", "")
    if not sign or params.get("sign_type") != "RSA2":
        return Refused(401, "not signed with RSA2")
    try:
        verified = Client(creds).verify(params, sign)  # pops sign_type; the rest, sorted, is what was signed
    except (AliPayException, ValueError, TypeError) as exc:
        log.warning("alipay notification refused: %s", exc)
        verified = False
    if not verified:
        return Refused(401, "sign not valid")
    return _word({k: v for k, v in form.items() if k not in ("sign", "sign_type")})


def _word(params: dict[str, str]) -> Word:
    status = params.get("trade_status", "")
    state = TradeState.paid if status in PAID_STATES else TradeState.closed if status == "TRADE_CLOSED" else TradeState.open
    return Word(channel=Channel.alipay, notification_id=params.get("notify_id", ""), out_trade_no=params.get("out_trade_no", ""),
                transaction_id=params.get("trade_no", ""), state=state,
                merchant={"app_id": params.get("app_id"), "seller_id": params.get("seller_id")},
                amount=_amount(params.get("total_amount")), currency="CNY",  # an Alipay trade here is in CNY, its only currency
                amount_detail={"total_amount": params.get("total_amount")}, paid_at=_time(params.get("gmt_payment")),
                reason=f"closed at Alipay ({status})" if state is TradeState.closed else "")
