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
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import socket
import string
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
class FakeWechatPay:
    mchid: str = "1900000109"
    appid: str = "wxd678efh567hg6787"
    merchant_serial_no: str = field(default_factory=lambda: secrets.token_hex(20).upper())
    platform_key_id: str = field(default_factory=lambda: "PUB_KEY_ID_" + "".join(secrets.choice(string.digits) for _ in range(32)))
    apiv3_key: str = field(default_factory=lambda: secrets.token_hex(16))
    merchant: rsa.RSAPrivateKey = field(default_factory=new_key)
    platform: rsa.RSAPrivateKey = field(default_factory=new_key)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

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
        ])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # the test runner's own
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        for _ in range(500):
            if self._server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("the fake WeChat Pay server did not start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    def _answer(self, status: int, payload: dict[str, Any] | None) -> Response:
        body = json.dumps(payload, ensure_ascii=False) if payload is not None else ""
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": self.platform_key_id,
                   "Wechatpay-Signature": sign(self.platform, f"{stamp}\n{nonce}\n{body}\n"),
                   "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Request-ID": str(uuid.uuid4())}
        return Response(body, status_code=status, headers=headers, media_type="application/json" if body else None)

    async def _verified(self, request: Request) -> tuple[bool, str]:
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
        return self._answer(200, self.transaction(order["out_trade_no"]))

    async def _close(self, request: Request) -> Response:
        ok, _ = await self._verified(request)
        if not ok:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        order = self.orders.get(request.path_params["no"])
        if order is None:
            return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
        order["trade_state"] = "CLOSED"
        return self._answer(204, None)

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
                "transaction_id": order["transaction_id"], "trade_type": "NATIVE", "trade_state": order["trade_state"],
                "trade_state_desc": "支付成功" if paid else "订单未支付", "bank_type": "OTHERS", "attach": "",
                **({"success_time": order["success_time"]} if paid else {}),
                "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
                "amount": {"total": total, "payer_total": total if paid else 0, "currency": "CNY", "payer_currency": "CNY"}}

    def notification(self, resource: dict[str, Any], *, timestamp: int | None = None, signer: rsa.RSAPrivateKey | None = None,
                     serial: str | None = None, notification_id: str | None = None) -> tuple[dict[str, str], bytes]:
        """The headers and body of a TRANSACTION.SUCCESS notification, as WeChat Pay posts it."""
        nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
        plain = json.dumps(resource, ensure_ascii=False).encode()
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(nonce.encode(), plain, b"transaction")
        envelope = {"id": notification_id or str(uuid.uuid4()), "create_time": datetime.now(UTC).isoformat(timespec="seconds"),
                    "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
                    "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                                 "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": "transaction",
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
