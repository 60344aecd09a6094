"""Fetching a day's trade bill from WeChat Pay through wechatpayv3: apply, download, verify.

`trade_bill` (GET /v3/bill/tradebill, a signed request whose signed answer the SDK verifies)
gives the file's download_url and its SHA1; `download_bill` fetches the file with a signed
request -- the file itself is not signed, so its SHA1 (over the file unpacked) is what proves
it, and a file that does not hash to what the signed answer said is refused. The bill is asked
gzipped (the SDK's default), as the channel recommends for large files.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
from datetime import date
from typing import Any

import httpx

from app.domain.errors import DomainError, ErrorKind
from app.domain.fees.channels.credentials import WechatCredentials
from app.domain.fees.channels.wechat import ChannelRefused, ChannelUnavailable, Client

log = logging.getLogger("propdesk.channels.reconciliation")
# The channel's answer for a day on which the merchant had no transaction: an empty statement.
NO_STATEMENT = "NO_STATEMENT_EXIST"


class StatementNotVerified(DomainError):
    kind = ErrorKind.unavailable
    title = "The channel's statement file does not match the hash the channel signed; nothing was imported"
    title_zh = "对账单文件与支付渠道签名的摘要不一致，未导入"


class StatementNotReady(DomainError):
    kind = ErrorKind.unavailable
    title = "The channel has not finished the day's statement yet; try again later (after 10:00 the next day)"
    title_zh = "支付渠道尚未生成该日对账单，请稍后再试（次日10点后）"


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str | bytes) and text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _apply(pay: Client, day: date) -> dict[str, Any] | None:
    """The signed answer {download_url, hash_type, hash_value}; None when the day had no trade."""
    status, text = await pay.trade_bill(bill_date=day.isoformat(), bill_type="ALL", tar_type="GZIP")
    answer = _json(text)
    if status == 200 and answer.get("download_url"):
        return answer
    if answer.get("code") == NO_STATEMENT:
        return None
    if answer.get("code") == "STATEMENT_CREATING":
        raise StatementNotReady(day=day.isoformat())
    raise ChannelRefused(f"WeChat Pay answered {status}: {answer.get('message', '')}"[:300],
                         channel_code=str(answer.get("code", "")), status=status)


async def trade_bill(creds: WechatCredentials, *, gateway: str, day: date) -> bytes | None:
    """The day's trade bill file, verified; None when the channel has no statement (no trade that day)."""
    try:
        async with Client(creds, gateway=gateway) as pay:
            answer = await _apply(pay, day)
            if answer is None:
                return None
            status, content = await pay.download_bill(str(answer["download_url"]))
    except httpx.HTTPError as exc:
        raise ChannelUnavailable(reason=type(exc).__name__) from None
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception for an answer it cannot verify
        log.warning("wechat pay bill answer refused: %s", exc)
        raise ChannelUnavailable(reason="answer not verified") from None
    if status != 200 or not isinstance(content, bytes):
        raise ChannelUnavailable(reason=f"download answered {status}")
    return _verified(content, answer)


def _verified(content: bytes, answer: dict[str, Any]) -> bytes:
    try:
        plain = gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content
    except (OSError, EOFError):
        raise StatementNotVerified("the statement file is not a readable gzip file") from None
    if str(answer.get("hash_type", "")).upper() != "SHA1":
        raise StatementNotVerified(f"unknown hash type {answer.get('hash_type')!r}")
    if hashlib.sha1(plain).hexdigest() != str(answer.get("hash_value", "")).lower():
        raise StatementNotVerified()
    return plain
