"""What clients send to and get from the money channels. Secrets go in, never out."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator

from app.domain.fees.channels.model import Channel, ChannelKind, ChannelPaymentState
from app.domain.fees.payments.schemas import Amount
from app.domain.types import InputModel, text
from app.domain.versions import RowVersion


def _private_key(pem: str) -> str:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("not an unencrypted PEM private key (apiclient_key.pem)") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise ValueError("WeChat Pay API v3 signs with an RSA key of 2048 bits or more")
    # Kept as PKCS#8, the one PEM form wechatpayv3 loads (it adds "BEGIN PRIVATE KEY" lines itself).
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def _public_key(pem: str) -> str:
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise ValueError("not a PEM public key (pub_key.pem from the merchant platform)") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError("WeChat Pay's platform public key is an RSA key")
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def _apiv3_key(value: str) -> str:
    # AEAD_AES_256_GCM uses the key's 32 ASCII characters as the 256-bit key.
    if len(value.encode()) != 32:
        raise ValueError("the APIv3 key is exactly 32 ASCII characters")
    return value


Pem = Annotated[str, text(8000)]


class WechatCredentialWrite(InputModel):
    """An estate's WeChat Pay merchant account; PUT again to rotate any part of it."""

    mchid: str = Field(pattern=r"^[0-9]{6,32}$", description="商户号", examples=["1900000109"])
    appid: str = Field(pattern=r"^wx[0-9A-Za-z]{16}$", description="The AppID bound to the merchant", examples=["wxd678efh567hg6787"])
    merchant_serial_no: str = Field(pattern=r"^[0-9A-Fa-f]{8,64}$", description="商户API证书序列号")
    merchant_private_key: Annotated[Pem, AfterValidator(_private_key)] = Field(
        description="商户API证书私钥 (apiclient_key.pem), PEM; stored encrypted, never returned")
    apiv3_key: Annotated[str, Field(min_length=32, max_length=32), AfterValidator(_apiv3_key)] = Field(
        description="APIv3密钥 (32 characters); stored encrypted, never returned")
    platform_public_key: Annotated[Pem, AfterValidator(_public_key)] = Field(
        description="微信支付公钥 (pub_key.pem), PEM: verifies the channel's answers and notifications")
    platform_public_key_id: str = Field(pattern=r"^[A-Za-z0-9_]{1,64}$", description="微信支付公钥ID",
                                        examples=["PUB_KEY_ID_0119000000000000000000000000000000"])


class WechatCredentialRead(BaseModel):
    """What is configured, without a secret: which secrets are set, and when it last changed."""

    estate_id: uuid.UUID
    version: RowVersion
    channel: Channel
    mchid: str
    appid: str
    merchant_serial_no: str
    platform_public_key_id: str
    secrets_set: list[str] = Field(description="Which secrets are stored (their values are never returned)")
    updated_at: datetime
    updated_by: uuid.UUID | None


def _bare_or_pem(value: str, kind: str) -> bytes:
    """Alipay's key tool and open platform show keys as bare base64; PEM is taken too."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return value.encode()
    body = "\n".join(value[i:i + 64] for i in range(0, len(value), 64))
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n".encode()


def _alipay_private_key(value: str) -> str:
    key = None
    for kind in ("PRIVATE KEY", "RSA PRIVATE KEY"):  # the key tool's PKCS8 (Java) or PKCS1 (non-Java) form
        try:
            key = load_pem_private_key(_bare_or_pem(value, kind), password=None)
            break
        except (ValueError, TypeError):
            continue
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise ValueError("not the app's RSA2 private key (应用私钥, RSA 2048, PKCS8 or PKCS1, unencrypted)")
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def _alipay_public_key(value: str) -> str:
    try:
        key = load_pem_public_key(_bare_or_pem(value, "PUBLIC KEY"))
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, RSAPublicKey) or key.key_size < 2048:
        raise ValueError("not the Alipay public key (支付宝公钥, RSA 2048) shown on the open platform")
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


class AlipayCredentialWrite(InputModel):
    """An estate's Alipay app (public-key mode, RSA2); PUT again to rotate any part of it."""

    app_id: str = Field(pattern=r"^20[0-9]{14}$", description="The app's APPID on the Alipay open platform",
                        examples=["2021000122671234"])
    seller_id: str = Field(pattern=r"^2088[0-9]{12}$", description="The merchant's PID (卖家支付宝用户号, 2088...)",
                           examples=["2088102177846880"])
    app_private_key: Annotated[Pem, AfterValidator(_alipay_private_key)] = Field(
        description="应用私钥 (RSA2), bare base64 as the key tool writes it or PEM; stored encrypted, never returned")
    alipay_public_key: Annotated[Pem, AfterValidator(_alipay_public_key)] = Field(
        description="支付宝公钥 (not the app's own public key): verifies the channel's answers and notifications")


class AlipayCredentialRead(BaseModel):
    """What is configured, without a secret: which secrets are set, and when it last changed."""

    estate_id: uuid.UUID
    version: RowVersion
    channel: Channel
    app_id: str
    seller_id: str
    secrets_set: list[str] = Field(description="Which secrets are stored (their values are never returned)")
    updated_at: datetime
    updated_by: uuid.UUID | None


def _no_repeats(charge_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(charge_ids)) != len(charge_ids):
        raise ValueError("charge_ids must not repeat a charge")
    return charge_ids


ChargeIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=100), AfterValidator(_no_repeats)]


class ChannelPaymentCreate(InputModel):
    channel: Channel
    kind: ChannelKind = Field(description="native: a QR code on the bill or the desk's screen (扫码支付; Alipay's precreate); "
                                          "a payment code scanned at the desk is POST .../channel-payments/counter")
    charge_ids: ChargeIds = Field(description="The charges the QR pays, exactly what they owe")

    @field_validator("kind")
    @classmethod
    def _a_qr(cls, kind: ChannelKind) -> ChannelKind:
        if kind is not ChannelKind.native:
            raise ValueError("a QR code is kind native; scan a payment code at POST /units/{unit_id}/channel-payments/counter")
        return kind


# What each channel's payment code (付款码) looks like as the desk's scanner reads it (alipay.py
# names Alipay's AUTH_CODE_PATTERN; it is defined here, where the counter's input is checked).
ALIPAY_AUTH_CODE = r"^(2[5-9]|30)[0-9]{14,22}$"
AUTH_CODES: dict[Channel, tuple[str, str]] = {
    Channel.wechat: (r"^1[0-5][0-9]{16}$", "a WeChat Pay payment code is 18 digits beginning 10 to 15"),
    Channel.alipay: (ALIPAY_AUTH_CODE, "an Alipay payment code is 16 to 24 digits beginning 25 to 30"),
}


class CounterPaymentCreate(InputModel):
    """A payment code (付款码) scanned at the desk, for exactly what the charges owe."""

    channel: Channel
    charge_ids: ChargeIds = Field(description="The charges the payment settles, for exactly what they owe now")
    # Digits of a length some channel uses, whatever the channel: the channel's own rule follows.
    auth_code: str = Field(pattern=r"^[0-9]{16,24}$", description="The payment code the scanner read from the "
                           "owner's phone (付款码): WeChat Pay 18 digits beginning 10-15, Alipay 16-24 digits beginning "
                           "25-30; used once, never stored", examples=["134567890123456789"])

    @field_validator("auth_code")
    @classmethod
    def _auth_code(cls, value: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")
        if channel is None:
            return value  # the channel's own error names it
        pattern, says = AUTH_CODES[channel]
        if not re.fullmatch(pattern, value):
            raise ValueError(says)
        return value


class ChannelPaymentRead(BaseModel):
    id: uuid.UUID
    unit_id: uuid.UUID
    channel: Channel
    kind: ChannelKind
    status: ChannelPaymentState
    out_trade_no: str
    amount: Amount
    charge_ids: list[uuid.UUID]
    code_url: str = Field(description="The QR code's content (WeChat's code_url, Alipay's qr_code): render it as a QR code "
                                      "for the owner to scan")
    expires_at: datetime
    created_at: datetime
    created_by: uuid.UUID
    transaction_id: str | None
    payment_id: uuid.UUID | None
    paid_at: datetime | None
    reason: str = Field(description="The channel's words when it failed or was closed (AUTH_CODE_INVALID: ...), else empty")
