"""A fake Alipay open-platform gateway (openapi.alipay.com/gateway.do), over real HTTP on a local port.

Written from the channel's documentation with `cryptography` alone, not with the SDK the app
uses, so the app's real signing and verification run against an independent implementation:
- a request is the common parameters (app_id, method, charset, sign_type, timestamp, version,
  notify_url, biz_content) in the query string or a form body; its `sign` is verified with the
  app's public key (RSA2: SHA256withRSA over every parameter but `sign`, sorted, as k=v joined
  by &); a bad one, another app_id, or a timestamp (GMT+8) over 30 minutes off is answered
  40002 isv.invalid-signature / isv.invalid-app-id / isv.invalid-timestamp, unsigned;
- every answer is {"<method>_response": {...}, "sign": "..."} signed with the "Alipay" key over
  the exact text of the response object;
- alipay.trade.precreate, .query, .close, .pay (bar_code) and .cancel, with the trade states
  WAIT_BUYER_PAY / TRADE_SUCCESS / TRADE_CLOSED; a precreated trade exists at the channel only
  once scanned (before, query and close answer ACQ.TRADE_NOT_EXIST);
- `notification()` builds the asynchronous notification as Alipay posts it: form-encoded,
  notify_type trade_status_sync, sign_type RSA2, signed over the sorted parameters without
  sign and sign_type. Keys are generated per fake (RSA 2048).
"""
from __future__ import annotations

import base64
import json
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.serving import Served
from tests.fakes.wechatpay import new_key, pem_private, pem_public

BEIJING = timezone(timedelta(hours=8))
SECOND = "%Y-%m-%d %H:%M:%S"
__all__ = ["FakeAlipay", "new_key", "pem_private", "pem_public", "sign_content"]


def sign_content(params: dict[str, str], *, without: tuple[str, ...]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in without)


def rsa2(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), SHA256())).decode()


def digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def beijing(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).astimezone(BEIJING).strftime(SECOND)


@dataclass
class Seen:
    """One request the fake received: its method and biz_content, and whether its sign verified."""

    method: str
    params: dict[str, str]
    verified: bool

    @property
    def biz(self) -> dict[str, Any]:
        return json.loads(self.params.get("biz_content") or "{}")


@dataclass
class FakeAlipay:
    app_id: str = field(default_factory=lambda: "2021" + digits(12))
    seller_id: str = field(default_factory=lambda: "2088" + digits(12))
    app: rsa.RSAPrivateKey = field(default_factory=new_key)  # the office's app key pair
    alipay: rsa.RSAPrivateKey = field(default_factory=new_key)  # the channel's own key pair
    trades: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    # auth_code -> what alipay.trade.pay does with it: "paid", "paying" (10003), or a sub_code to fail with
    codes: dict[str, str] = field(default_factory=dict)
    # A "paying" trade is paid once queried this many times (the owner confirmed); None: only by pay().
    confirms_after: int | None = None
    port: int = 0
    _served: Served | None = None

    def credentials(self, **overrides: str) -> dict[str, str]:
        """What the office enters (PUT /estates/{id}/payment-channels/alipay)."""
        return {"app_id": self.app_id, "seller_id": self.seller_id, "app_private_key": pem_private(self.app),
                "alipay_public_key": pem_public(self.alipay), **overrides}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gateway.do"

    async def start(self) -> None:
        app = Starlette(routes=[Route("/gateway.do", self._gateway, methods=["GET", "POST"])])
        self._served = await Served.start(app, what="the fake Alipay gateway")
        self.port = self._served.port

    async def stop(self) -> None:
        if self._served is not None:
            await self._served.stop()

    # --- the gateway ---------------------------------------------------------------------------

    def _answer(self, method: str, payload: dict[str, Any], *, signed: bool = True) -> Response:
        inner = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        key = method.replace(".", "_") + "_response"
        body = f'{{"{key}":{inner}' + (f',"sign":"{rsa2(self.alipay, inner)}"}}' if signed else "}")
        return Response(body, media_type="application/json;charset=utf-8")

    @staticmethod
    def _business(code: str, sub_msg: str) -> dict[str, str]:
        return {"code": "40004", "msg": "Business Failed", "sub_code": code, "sub_msg": sub_msg}

    def _refusal(self, params: dict[str, str]) -> dict[str, str] | None:
        """Why the request's common parameters are refused, if they are (40002, unsigned)."""
        def invalid(sub_code: str, sub_msg: str) -> dict[str, str]:
            return {"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code, "sub_msg": sub_msg}
        if params.get("app_id") != self.app_id:
            return invalid("isv.invalid-app-id", "无效的AppID参数")
        try:
            sent = datetime.strptime(params.get("timestamp", ""), SECOND).replace(tzinfo=BEIJING)
        except ValueError:
            return invalid("isv.invalid-timestamp", "非法的时间戳参数")
        if abs((datetime.now(UTC) - sent).total_seconds()) > 30 * 60:
            return invalid("isv.invalid-timestamp", "请求已过期")
        if params.get("sign_type") != "RSA2" or params.get("charset", "utf-8").lower() != "utf-8":
            return invalid("isv.invalid-signature-type", "无效的签名类型")
        try:
            self.app.public_key().verify(base64.b64decode(params.get("sign", "")),
                                         sign_content(params, without=("sign",)).encode(), padding.PKCS1v15(), SHA256())
        except (InvalidSignature, ValueError):
            return invalid("isv.invalid-signature", "验签出错")
        return None

    async def _gateway(self, request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        method = params.get("method", "")
        refusal = self._refusal(params)
        self.seen.append(Seen(method=method, params=params, verified=refusal is None))
        if refusal is not None:
            return self._answer(method, refusal, signed=False)
        handler = {"alipay.trade.precreate": self._precreate, "alipay.trade.query": self._query,
                   "alipay.trade.close": self._close, "alipay.trade.pay": self._pay,
                   "alipay.trade.cancel": self._cancel}.get(method)
        if handler is None:
            return self._answer(method, {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"})
        return self._answer(method, handler(json.loads(params.get("biz_content") or "{}"), params))

    def _new_trade(self, biz: dict[str, Any], params: dict[str, str], **state: Any) -> dict[str, Any]:
        trade = {"out_trade_no": biz["out_trade_no"], "total_amount": biz["total_amount"], "subject": biz.get("subject", ""),
                 "notify_url": params.get("notify_url", ""), "trade_no": None, "trade_status": "WAIT_BUYER_PAY",
                 "scanned": False, "gmt_create": beijing(), "time_expire": biz.get("time_expire"), **state}
        self.trades[biz["out_trade_no"]] = trade
        return trade

    @staticmethod
    def _amount_ok(value: Any) -> bool:
        try:
            amount = Decimal(str(value))
        except ArithmeticError:
            return False
        return amount == amount.quantize(Decimal("0.01")) and Decimal("0.01") <= amount <= Decimal("100000000")

    def _precreate(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        if not biz.get("out_trade_no") or not biz.get("subject") or not self._amount_ok(biz.get("total_amount")):
            return self._business("ACQ.INVALID_PARAMETER", "参数无效")
        old = self.trades.get(biz["out_trade_no"])
        if old is not None and old["trade_status"] != "WAIT_BUYER_PAY":
            return self._business("ACQ.TRADE_HAS_SUCCESS" if old["trade_status"] == "TRADE_SUCCESS" else "ACQ.TRADE_HAS_CLOSE",
                                  "交易已支付" if old["trade_status"] == "TRADE_SUCCESS" else "交易已经关闭")
        trade = old or self._new_trade(biz, params, qr_code=f"https://qr.alipay.com/bax{secrets.token_hex(10)}")
        return {"code": "10000", "msg": "Success", "out_trade_no": trade["out_trade_no"], "qr_code": trade["qr_code"]}

    def _existing(self, biz: dict[str, Any]) -> dict[str, Any] | None:
        """The trade as the channel knows it: a precreated one only once the owner scanned it."""
        trade = self.trades.get(str(biz.get("out_trade_no", "")))
        if trade is None and biz.get("trade_no"):
            trade = next((t for t in self.trades.values() if t["trade_no"] == biz["trade_no"]), None)
        return trade if trade is not None and trade["scanned"] else None

    def _query(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        trade = self._existing(biz)
        if trade is None:
            return self._business("ACQ.TRADE_NOT_EXIST", "交易不存在")
        trade["queries"] = trade.get("queries", 0) + 1
        if trade.get("paying") and trade["trade_status"] == "WAIT_BUYER_PAY" and self.confirms_after is not None \
                and trade["queries"] >= self.confirms_after:
            self.pay(trade["out_trade_no"])
        return {"code": "10000", "msg": "Success", **self._described(trade)}

    def _close(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        trade = self._existing(biz)
        if trade is None:
            return self._business("ACQ.TRADE_NOT_EXIST", "交易不存在")
        if trade["trade_status"] != "WAIT_BUYER_PAY":
            return self._business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade["trade_status"], trade["gmt_close"] = "TRADE_CLOSED", beijing()
        return {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"]}

    def _pay(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        code = str(biz.get("auth_code", ""))
        if biz.get("scene") != "bar_code" or not self._amount_ok(biz.get("total_amount")) or not biz.get("subject"):
            return self._business("ACQ.INVALID_PARAMETER", "参数无效")
        if not (16 <= len(code) <= 24 and code.isdigit() and 25 <= int(code[:2]) <= 30):
            return self._business("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款")
        outcome = self.codes.get(code, "paid")
        if outcome not in ("paid", "paying"):
            return self._business(outcome, "支付失败")
        old = self.trades.get(biz["out_trade_no"])
        if old is not None:
            return {"code": "10000", "msg": "Success", **self._described(old)} if old["trade_status"] == "TRADE_SUCCESS" \
                else self._business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        trade = self._new_trade(biz, params, scanned=True, trade_no=self._trade_no(), paying=outcome == "paying")
        if outcome == "paying":  # the owner is asked for a password: the desk must query
            return {"code": "10003", "msg": "Waiting for user to pay", **self._described(trade)}
        self.pay(trade["out_trade_no"])
        return {"code": "10000", "msg": "Success", **self._described(trade)}

    def _cancel(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        trade = self.trades.get(str(biz.get("out_trade_no", "")))
        if trade is None:  # cancelling what never reached the channel is fine: nothing to undo
            return {"code": "10000", "msg": "Success", "out_trade_no": biz.get("out_trade_no"), "retry_flag": "N", "action": "close"}
        action = "refund" if trade["trade_status"] == "TRADE_SUCCESS" else "close"
        trade["trade_status"], trade["gmt_close"] = "TRADE_CLOSED", beijing()
        return {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"],
                "retry_flag": "N", "action": action}

    # --- the owner scans and pays, and the channel tells the office ----------------------------

    @staticmethod
    def _trade_no() -> str:
        return datetime.now(BEIJING).strftime("%Y%m%d") + "2200" + digits(16)

    def scan(self, out_trade_no: str) -> dict[str, Any]:
        """The owner scanned the QR code: the trade now exists, waiting for the owner to pay."""
        trade = self.trades[out_trade_no]
        trade["scanned"], trade["trade_no"] = True, trade["trade_no"] or self._trade_no()
        return trade

    def pay(self, out_trade_no: str) -> dict[str, str]:
        """The owner paid: TRADE_SUCCESS with a trade number; the notification's parameters."""
        trade = self.scan(out_trade_no)
        trade["trade_status"], trade["gmt_payment"] = "TRADE_SUCCESS", beijing()
        return self.parameters(out_trade_no)

    def _described(self, trade: dict[str, Any]) -> dict[str, Any]:
        paid = trade["trade_status"] in ("TRADE_SUCCESS", "TRADE_FINISHED")
        return {"trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"], "buyer_logon_id": "159****5620",
                "trade_status": trade["trade_status"], "total_amount": trade["total_amount"],
                "buyer_pay_amount": trade["total_amount"] if paid else "0.00",
                **({"send_pay_date": trade["gmt_payment"], "gmt_payment": trade["gmt_payment"]} if paid else {})}

    def parameters(self, out_trade_no: str, **overrides: str) -> dict[str, str]:
        """The notification's parameters, before signing (tests change them to forge or mismatch)."""
        trade = self.trades[out_trade_no]
        params = {"notify_time": beijing(), "notify_type": "trade_status_sync", "notify_id": secrets.token_hex(17),
                  "app_id": self.app_id, "charset": "utf-8", "version": "1.0", "auth_app_id": self.app_id,
                  "trade_no": trade["trade_no"] or "", "out_trade_no": out_trade_no, "buyer_id": "2088" + digits(12),
                  "buyer_logon_id": "159****5620", "seller_id": self.seller_id, "trade_status": trade["trade_status"],
                  "total_amount": trade["total_amount"], "receipt_amount": trade["total_amount"],
                  "invoice_amount": trade["total_amount"], "buyer_pay_amount": trade["total_amount"], "point_amount": "0.00",
                  "subject": trade["subject"], "gmt_create": trade["gmt_create"],
                  "fund_bill_list": json.dumps([{"amount": trade["total_amount"], "fundChannel": "ALIPAYACCOUNT"}],
                                               separators=(",", ":"))}
        if trade.get("gmt_payment"):
            params["gmt_payment"] = trade["gmt_payment"]
        return {**params, **overrides}

    def notification(self, params: dict[str, str], *, signer: rsa.RSAPrivateKey | None = None) -> bytes:
        """The form body Alipay posts: the parameters, sign_type RSA2 and their sign."""
        signed = {**params, "sign_type": "RSA2"}
        signed["sign"] = rsa2(signer or self.alipay, sign_content(signed, without=("sign", "sign_type")))
        return urlencode(signed).encode()

    async def notify(self, app: httpx.AsyncClient, out_trade_no: str, *, params: dict[str, str] | None = None,
                     body: bytes | None = None, signer: rsa.RSAPrivateKey | None = None) -> httpx.Response:
        """POST the notification to the trade's notify_url, on the app under test."""
        body = body if body is not None else self.notification(params or self.parameters(out_trade_no), signer=signer)
        return await app.post(urlsplit(self.trades[out_trade_no]["notify_url"]).path, content=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
