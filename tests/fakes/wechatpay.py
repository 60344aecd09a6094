"""A fake WeChat Pay API v3, served over real HTTP on a free local port inside the test process.

Written from the channel's documentation with `cryptography` alone, not with the SDK the app
uses, so the app's real signing and verification run against an independent implementation:
- every request's Authorization (WECHATPAY2-SHA256-RSA2048 mchid, nonce_str, signature,
  timestamp, serial_no) is verified with the merchant's public key over
  "METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n"; a bad one is answered 401 SIGN_ERROR;
- every answer is signed with the platform private key (Wechatpay-Timestamp / -Nonce /
  -Signature / -Serial over "TIMESTAMP\\nNONCE\\nBODY\\n");
- `notification()` builds a payment notification as documented: the transaction encrypted with
  AEAD_AES_256_GCM under the APIv3 key (associated_data "transaction"), the envelope signed
  with the platform key. Keys are generated per fake (RSA 2048).
- refunds (申请退款, 查询单笔退款, 退款结果通知): a refund of a paid order, at most what is left of
  it, idempotent by out_refund_no; answered PROCESSING (or `refund_outcome`), or refused as
  `refusal` says (NOT_ENOUGH...); `refund_notification()` builds REFUND.SUCCESS / ABNORMAL /
  CLOSED as documented (resource "refund", associated_data "refund").
- the trade bill: GET /v3/bill/tradebill (signed request, signed answer with download_url and
  the file's SHA1) and the signed download of the file (gzip when tar_type=GZIP), unsigned as
  the channel serves it; `bills` holds each day's file (tests/fakes/wechatpay_bill.py builds it).
- the payment code (付款码支付, POST /v3/pay/transactions/codepay) answers as `codes` scripts it
  per auth_code: SUCCESS at once, USERPAYING (202) for some queries and then SUCCESS or PAYERROR,
  or an error (AUTH_CODE_INVALID, NOT_ENOUGH, SYSTEM_ERROR); a code is good once. Reverse (撤销,
  .../reverse) revokes any order, paid or not (paid: the money goes back); close refuses a
  paid order (ORDERPAID).
"""
from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import os
import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.serving import Served

AUTH = re.compile(r'^WECHATPAY2-SHA256-RSA2048 (.*)$')
FIELD = re.compile(r'(\w+)="([^"]*)"')


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def pem_public(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), SHA256())).decode()


@dataclass
class Seen:
    """One request the fake received, and whether its Authorization verified."""

    method: str
    path: str
    body: str
    verified: bool

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}


@dataclass
class CodeScript:
    """How the fake answers one payment code: at once, or after the owner types a password."""

    answer: str = "SUCCESS"  # SUCCESS, USERPAYING, or an error code (AUTH_CODE_INVALID, NOT_ENOUGH, SYSTEM_ERROR)
    status: int = 200  # of an error answer
    message: str = ""
    queries_paying: int | None = 2  # USERPAYING: queries answered USERPAYING before it becomes `then`; None: never
    then: str = "SUCCESS"  # or PAYERROR


STATE_WORDS = {"SUCCESS": "支付成功", "NOTPAY": "订单未支付", "USERPAYING": "用户支付中，需要输入密码", "CLOSED": "已关闭",
               "REVOKED": "已撤销", "PAYERROR": "支付失败，请重新下单支付", "REFUND": "转入退款"}


@dataclass
class FakeWechatPay:
    mchid: str = "1900000109"
    appid: str = "wxd678efh567hg6787"
    merchant_serial_no: str = field(default_factory=lambda: secrets.token_hex(20).upper())
    platform_key_id: str = field(default_factory=lambda: "PUB_KEY_ID_" + "".join(secrets.choice(string.digits) for _ in range(32)))
    apiv3_key: str = field(default_factory=lambda: secrets.token_hex(16))
    merchant: rsa.RSAPrivateKey = field(default_factory=new_key)
    platform: rsa.RSAPrivateKey = field(default_factory=new_key)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_outcome: str = "PROCESSING"  # what a new refund is at once: PROCESSING, SUCCESS, ABNORMAL, CLOSED
    refusal: tuple[int, str, str] | None = None  # (status, code, message) every refund request is refused with
    refund_delay: float = 0.0  # seconds a refund request takes: widens the window of a race
    seen: list[Seen] = field(default_factory=list)
    bills: dict[str, str] = field(default_factory=dict)  # bill_date -> the trade bill's text
    bill_tampered: bool = False  # serve a file that does not hash to what the signed answer says
    _downloads: dict[str, tuple[str, bool]] = field(default_factory=dict)
    codes: dict[str, CodeScript] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    refuse_reverse: bool = False  # the reverse answers SYSTEM_ERROR, as a busy channel may
    # Down: every request answered 500 SYSTEM_ERROR; `down_after_codepay` goes down once a code is charged.
    down: bool = False
    down_after_codepay: bool = False
    port: int = 0
    _served: Served | None = None

    # --- what the office enters (PUT /estates/{id}/payment-channels/wechat) ----------------------

    def credentials(self, **overrides: str) -> dict[str, str]:
        return {"mchid": self.mchid, "appid": self.appid, "merchant_serial_no": self.merchant_serial_no,
                "merchant_private_key": pem_private(self.merchant), "apiv3_key": self.apiv3_key,
                "platform_public_key": pem_public(self.platform), "platform_public_key_id": self.platform_key_id,
                **overrides}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- the server --------------------------------------------------------------------------

    async def start(self) -> None:
        app = Starlette(routes=[
            Route("/v3/pay/transactions/native", self._native, methods=["POST"]),
            Route("/v3/pay/transactions/out-trade-no/{no}", self._query, methods=["GET"]),
            Route("/v3/pay/transactions/out-trade-no/{no}/close", self._close, methods=["POST"]),
            Route("/v3/refund/domestic/refunds", self._refund, methods=["POST"]),
            Route("/v3/refund/domestic/refunds/{no}", self._query_refund, methods=["GET"]),
            Route("/v3/bill/tradebill", self._trade_bill, methods=["GET"]),
            Route("/v3/billdownload/file", self._bill_file, methods=["GET"]),
            Route("/v3/pay/transactions/codepay", self._codepay, methods=["POST"]),
            Route("/v3/pay/transactions/out-trade-no/{no}/reverse", self._reverse, methods=["POST"]),
        ])
        self._served = await Served.start(app, what="the fake WeChat Pay server")
        self.port = self._served.port

    async def stop(self) -> None:
        if self._served is not None:
            await self._served.stop()

    def _answer(self, status: int, payload: dict[str, Any] | None) -> Response:
        if self.down:
            status, payload = 500, {"code": "SYSTEM_ERROR", "message": "系统繁忙，请稍后重试"}
        body = json.dumps(payload, ensure_ascii=False) if payload is not None else ""
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": self.platform_key_id,
                   "Wechatpay-Signature": sign(self.platform, f"{stamp}\n{nonce}\n{body}\n"),
                   "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Request-ID": str(uuid.uuid4())}
        return Response(body, status_code=status, headers=headers, media_type="application/json" if body else None)

    async def _verified(self, request: Request) -> tuple[bool, str]:
        if self.down:
            return False, ""
        body = (await request.body()).decode()
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        m = AUTH.match(request.headers.get("authorization", ""))
        fields = dict(FIELD.findall(m.group(1))) if m else {}
        ok = bool(m) and fields.get("mchid") == self.mchid and fields.get("serial_no") == self.merchant_serial_no
        if ok:
            message = f"{request.method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
            try:
                self.merchant.public_key().verify(base64.b64decode(fields["signature"]), message.encode(),
                                                  padding.PKCS1v15(), SHA256())
            except (InvalidSignature, ValueError):
                ok = False
        self.seen.append(Seen(method=request.method, path=path, body=body, verified=ok))
        return ok, body

    async def _native(self, request: Request) -> Response:
        ok, body = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        order = json.loads(body)
        if order.get("mchid") != self.mchid or order.get("appid") != self.appid:
            return self._answer(400, {"code": "PARAM_ERROR", "message": "mchid与appid不匹配"})
        if order["out_trade_no"] in self.orders:
            return self._answer(400, {"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复"})
        self.orders[order["out_trade_no"]] = {**order, "trade_state": "NOTPAY", "transaction_id": None}
        return self._answer(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}"})

    async def _query(self, request: Request) -> Response:
        ok, _ = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        order = self.orders.get(request.path_params["no"])
        if order is None or request.query_params.get("mchid") != self.mchid:
            return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        if order["trade_state"] == "USERPAYING":
            self._owner_types(order)
        return self._answer(200, self.transaction(order["out_trade_no"]))

    def _owner_types(self, order: dict[str, Any]) -> None:
        script: CodeScript = order["script"]
        order["queries"] += 1
        if script.queries_paying is not None and order["queries"] > script.queries_paying:
            if script.then == "SUCCESS":
                self.pay(order["out_trade_no"])
            else:
                order["trade_state"] = script.then

    async def _close(self, request: Request) -> Response:
        ok, _ = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        order = self.orders.get(request.path_params["no"])
        if order is None:
            return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        if order["trade_state"] == "SUCCESS":
            return self._answer(400, {"code": "ORDERPAID", "message": "订单已支付"})
        order["trade_state"] = "CLOSED"
        return self._answer(204, None)

    async def _codepay(self, request: Request) -> Response:
        ok, body = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        order = json.loads(body)
        if order.get("mchid") != self.mchid or order.get("appid") != self.appid:
            return self._answer(400, {"code": "APPID_MCHID_NOT_MATCH", "message": "appid和mch_id不匹配"})
        code = str((order.get("payer") or {}).get("auth_code", ""))
        if not (order.get("scene_info") or {}).get("store_info", {}).get("out_id") or not order.get("description"):
            return self._answer(400, {"code": "PARAM_ERROR", "message": "缺少参数"})
        if not re.fullmatch(r"1[0-5]\d{16}", code) or code in self.used_codes:
            return self._answer(400, {"code": "AUTH_CODE_INVALID", "message": "付款码无效，请重新扫码"})
        if order["out_trade_no"] in self.orders:
            return self._answer(400, {"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复"})
        script = self.codes.get(code, CodeScript())
        if script.answer not in ("SUCCESS", "USERPAYING"):
            return self._answer(script.status, {"code": script.answer, "message": script.message or script.answer})
        self.used_codes.add(code)
        self.orders[order["out_trade_no"]] = {**order, "trade_state": "USERPAYING", "transaction_id": None,
                                              "script": script, "queries": 0}
        if script.answer == "USERPAYING":
            answer = self._answer(202, {"code": "USERPAYING", "message": STATE_WORDS["USERPAYING"]})
            self.down = self.down_after_codepay
            return answer
        return self._answer(200, self.pay(order["out_trade_no"]))

    async def _reverse(self, request: Request) -> Response:
        ok, body = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        order = self.orders.get(request.path_params["no"])
        if order is None:
            return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        if self.refuse_reverse:
            return self._answer(500, {"code": "SYSTEM_ERROR", "message": "系统错误"})
        order["reversed_paid"] = order["trade_state"] == "SUCCESS"  # paid: the money goes back to the owner
        order["trade_state"] = "REVOKED"
        return self._answer(200, {"appid": self.appid, "mchid": self.mchid, "out_trade_no": order["out_trade_no"]})

    # --- the owner pays, and the channel tells the office --------------------------------------

    def pay(self, out_trade_no: str) -> dict[str, Any]:
        """The owner scanned and paid: the order is SUCCESS with a transaction id."""
        order = self.orders[out_trade_no]
        order["trade_state"] = "SUCCESS"
        order["transaction_id"] = order["transaction_id"] or "4200" + "".join(secrets.choice(string.digits) for _ in range(24))
        order["success_time"] = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        return self.transaction(out_trade_no)

    def transaction(self, out_trade_no: str) -> dict[str, Any]:
        """The transaction as the query answer and the notification's resource describe it."""
        order = self.orders[out_trade_no]
        total = order["amount"]["total"]
        paid = order["trade_state"] == "SUCCESS"
        return {"appid": self.appid, "mchid": self.mchid, "out_trade_no": out_trade_no,
                "transaction_id": order["transaction_id"], "trade_type": "MICROPAY" if "payer" in order else "NATIVE",
                "trade_state": order["trade_state"], "trade_state_desc": STATE_WORDS.get(order["trade_state"], ""),
                "bank_type": "OTHERS", "attach": "",
                **({"success_time": order["success_time"]} if paid else {}),
                "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
                "amount": {"total": total, "payer_total": total if paid else 0, "currency": "CNY", "payer_currency": "CNY"}}

    def notification(self, resource: dict[str, Any], *, timestamp: int | None = None, signer: rsa.RSAPrivateKey | None = None,
                     serial: str | None = None, notification_id: str | None = None, event_type: str = "TRANSACTION.SUCCESS",
                     original_type: str = "transaction", summary: str = "支付成功") -> tuple[dict[str, str], bytes]:
        """The headers and body of a TRANSACTION.SUCCESS notification (or another event), as WeChat Pay posts it."""
        nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
        plain = json.dumps(resource, ensure_ascii=False).encode()
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(nonce.encode(), plain, original_type.encode())
        envelope = {"id": notification_id or str(uuid.uuid4()), "create_time": datetime.now(UTC).isoformat(timespec="seconds"),
                    "resource_type": "encrypt-resource", "event_type": event_type, "summary": summary,
                    "resource": {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                                 "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": original_type,
                                 "nonce": nonce}}
        body = json.dumps(envelope, ensure_ascii=False)
        stamp, header_nonce = str(timestamp if timestamp is not None else int(time.time())), os.urandom(16).hex()
        headers = {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": header_nonce,
                   "Wechatpay-Signature": sign(signer or self.platform, f"{stamp}\n{header_nonce}\n{body}\n"),
                   "Wechatpay-Serial": serial or self.platform_key_id,
                   "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Content-Type": "application/json"}
        return headers, body.encode()

    async def notify(self, app: httpx.AsyncClient, out_trade_no: str, *, resource: dict[str, Any] | None = None,
                     prepared: tuple[dict[str, str], bytes] | None = None, **options: Any) -> httpx.Response:
        """POST the notification to the order's notify_url, on the app under test."""
        headers, body = prepared or self.notification(resource or self.transaction(out_trade_no), **options)
        return await app.post(urlsplit(self.orders[out_trade_no]["notify_url"]).path, content=body, headers=headers)

    # --- refunds ----------------------------------------------------------------------------

    async def _refund(self, request: Request) -> Response:
        ok, body = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        if self.refund_delay:
            await asyncio.sleep(self.refund_delay)
        asked = json.loads(body)
        if asked["out_refund_no"] in self.refunds:  # the same number again: the same refund, paid once
            return self._answer(200, self.refund(asked["out_refund_no"]))
        if self.refusal is not None:
            status, code, message = self.refusal
            return self._answer(status, {"code": code, "message": message})
        order = next((o for o in self.orders.values() if o["transaction_id"] and o["transaction_id"] == asked.get("transaction_id")
                      or o["out_trade_no"] == asked.get("out_trade_no")), None)
        if order is None or order["trade_state"] != "SUCCESS":
            return self._answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"})
        amount, total = asked["amount"], order["amount"]["total"]
        left = total - sum(r["amount"]["refund"] for r in self.refunds.values()
                           if r["out_trade_no"] == order["out_trade_no"] and r["status"] != "CLOSED")
        if amount.get("total") != total or amount.get("currency") != "CNY" or not 0 < amount.get("refund", 0) <= left:
            return self._answer(400, {"code": "INVALID_REQUEST", "message": "申请退款金额超过订单可退金额"})
        self.refunds[asked["out_refund_no"]] = {
            "out_refund_no": asked["out_refund_no"], "out_trade_no": order["out_trade_no"],
            "transaction_id": order["transaction_id"], "notify_url": asked.get("notify_url", ""), "reason": asked.get("reason", ""),
            "refund_id": "50" + "".join(secrets.choice(string.digits) for _ in range(28)), "status": "PROCESSING",
            "create_time": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
            "amount": {"refund": amount["refund"], "total": total}}
        if self.refund_outcome != "PROCESSING":
            self.settle_refund(asked["out_refund_no"], self.refund_outcome)
        return self._answer(200, self.refund(asked["out_refund_no"]))

    async def _query_refund(self, request: Request) -> Response:
        ok, _ = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        if request.path_params["no"] not in self.refunds:
            return self._answer(404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
        return self._answer(200, self.refund(request.path_params["no"]))

    def settle_refund(self, out_refund_no: str, status: str = "SUCCESS") -> dict[str, Any]:
        """The channel finishes the refund: SUCCESS (money in the owner's 零钱), ABNORMAL or CLOSED."""
        refund = self.refunds[out_refund_no]
        refund["status"] = status
        refund["user_received_account"] = "支付用户零钱" if status != "ABNORMAL" else "招商银行信用卡0403"
        if status == "SUCCESS":
            refund["success_time"] = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        return self.refund_resource(out_refund_no)

    def refund(self, out_refund_no: str) -> dict[str, Any]:
        """The refund as the request's and the query's answer describe it."""
        r = self.refunds[out_refund_no]
        refund, total = r["amount"]["refund"], r["amount"]["total"]
        return {"refund_id": r["refund_id"], "out_refund_no": out_refund_no, "transaction_id": r["transaction_id"],
                "out_trade_no": r["out_trade_no"], "channel": "ORIGINAL", "user_received_account": r.get("user_received_account", ""),
                **({"success_time": r["success_time"]} if "success_time" in r else {}), "create_time": r["create_time"],
                "status": r["status"], "funds_account": "AVAILABLE",
                "amount": {"total": total, "refund": refund, "payer_total": total, "payer_refund": refund,
                           "settlement_refund": refund, "settlement_total": total, "discount_refund": 0, "currency": "CNY",
                           "refund_fee": 0}}

    def refund_resource(self, out_refund_no: str) -> dict[str, Any]:
        """The refund as a refund notification's decrypted resource describes it (no appid, no currency)."""
        r = self.refunds[out_refund_no]
        return {"mchid": self.mchid, "out_trade_no": r["out_trade_no"], "transaction_id": r["transaction_id"],
                "out_refund_no": out_refund_no, "refund_id": r["refund_id"], "refund_status": r["status"],
                **({"success_time": r["success_time"]} if "success_time" in r else {}),
                "user_received_account": r.get("user_received_account", ""),
                "amount": {"total": r["amount"]["total"], "refund": r["amount"]["refund"], "payer_total": r["amount"]["total"],
                           "payer_refund": r["amount"]["refund"]}}

    def refund_notification(self, resource: dict[str, Any], **options: Any) -> tuple[dict[str, str], bytes]:
        """REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED, as its resource's refund_status says."""
        status = resource["refund_status"]
        summary = {"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}[status]
        return self.notification(resource, event_type=f"REFUND.{status}", original_type="refund", summary=summary, **options)

    async def notify_refund(self, app: httpx.AsyncClient, out_refund_no: str, *, resource: dict[str, Any] | None = None,
                            prepared: tuple[dict[str, str], bytes] | None = None, **options: Any) -> httpx.Response:
        """POST the refund notification to the refund's notify_url, on the app under test."""
        headers, body = prepared or self.refund_notification(resource or self.refund_resource(out_refund_no), **options)
        return await app.post(urlsplit(self.refunds[out_refund_no]["notify_url"]).path, content=body, headers=headers)

    # --- the trade bill (对账单) --------------------------------------------------------------

    async def _trade_bill(self, request: Request) -> Response:
        ok, _ = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        day, kind = request.query_params.get("bill_date", ""), request.query_params.get("bill_type", "ALL")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) or kind not in ("ALL", "SUCCESS", "REFUND"):
            return self._answer(400, {"code": "PARAM_ERROR", "message": "参数错误"})
        if day not in self.bills:
            return self._answer(400, {"code": "NO_STATEMENT_EXIST", "message": "账单文件不存在"})
        token = secrets.token_urlsafe(12)
        self._downloads[token] = (day, request.query_params.get("tar_type") == "GZIP")
        text = self.bills[day].encode()
        return self._answer(200, {"hash_type": "SHA1", "hash_value": hashlib.sha1(text).hexdigest(),
                                  "download_url": f"{self.url}/v3/billdownload/file?token={token}"})

    async def _bill_file(self, request: Request) -> Response:
        ok, _ = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        found = self._downloads.get(request.query_params.get("token", ""))
        if found is None:
            return self._answer(400, {"code": "PARAM_ERROR", "message": "token无效"})
        day, gzipped = found
        text = self.bills[day] + ("`tampered" if self.bill_tampered else "")
        body = gzip.compress(text.encode()) if gzipped else text.encode()
        # The file is not signed (its SHA1 in the signed answer proves it): no Wechatpay-* headers.
        return Response(body, status_code=200, media_type="application/octet-stream")
