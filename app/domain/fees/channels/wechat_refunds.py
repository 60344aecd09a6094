"""WeChat Pay API v3 refunds through wechatpayv3: 申请退款 and 查询单笔退款.

The SDK signs the request and verifies the signature of a 2xx answer (an answer it cannot verify
raises, and is treated as no answer). It does not verify a 4xx answer; one is read as a refusal,
which is safe: a refusal marks the refund failed and pays nothing, and a second refund of the
same payment is refused by the channel itself if the first in fact went through (a payment is
never refunded beyond its total).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from app.domain.fees.channels.credentials import WechatCredentials
from app.domain.fees.channels.wechat import Client, _json, log

OWNER_REASON_LENGTH = 80  # the channel shows the owner at most 80 characters of the reason


@dataclass(frozen=True)
class Word:
    """The channel's answer: its HTTP status and JSON body, or why there was no believable answer."""

    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    unanswered: str = ""


async def _call(creds: WechatCredentials, gateway: str, name: str, **kwargs: Any) -> Word:
    try:
        async with Client(creds, gateway=gateway) as pay:
            status, text = await getattr(pay, name)(**kwargs)
    except httpx.HTTPError as exc:
        return Word(unanswered=type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception for an answer it cannot verify
        log.warning("wechat pay refund answer refused: %s", exc)
        return Word(unanswered="answer not verified")
    return Word(status=status, body=_json(text))


async def ask_refund(creds: WechatCredentials, *, gateway: str, notify_url: str, out_refund_no: str, transaction_id: str,
                     reason: str, refund_fen: int, total_fen: int) -> Word:
    """POST /v3/refund/domestic/refunds: the whole of the transaction, back to where it came from."""
    return await _call(creds, gateway, "refund", out_refund_no=out_refund_no, transaction_id=transaction_id,
                       reason=reason[:OWNER_REASON_LENGTH], notify_url=notify_url,
                       amount={"refund": refund_fen, "total": total_fen, "currency": "CNY"})


async def query_refund(creds: WechatCredentials, *, gateway: str, out_refund_no: str) -> Word:
    """GET /v3/refund/domestic/refunds/{out_refund_no}."""
    return await _call(creds, gateway, "query_refund", out_refund_no=out_refund_no)
