"""An estate's channel credentials: sealed with a key derived from the app secret, never read back out.

The secrets (WeChat: merchant private key, APIv3 key, platform public key; Alipay: the app
private key and the Alipay public key) are one JSON blob per channel, encrypted
with AES-256-GCM under a key HKDF derives from PROPDESK_SECRET (Settings.signing_secret), with
the estate and channel as associated data: a blob copied onto another estate's row does not
open. The API returns only the plain fields and which secrets are set. Rotating the app secret
makes the stored credentials unreadable: enter them again (PUT) after a rotation.
"""
from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.errors import Conflict, NotFound
from app.domain.fees.channels.model import Channel, ChannelCredential
from app.domain.fees.channels.schemas import (
    AlipayCredentialRead,
    AlipayCredentialWrite,
    WechatCredentialRead,
    WechatCredentialWrite,
)
from app.domain.registry import service as registry_service

SEALED_PREFIX = "v1."
SECRET_FIELDS = ("merchant_private_key", "apiv3_key", "platform_public_key")
ALIPAY_SECRET_FIELDS = ("app_private_key", "alipay_public_key")


class ChannelNotConfigured(Conflict):
    title = "The estate has no credentials for this payment channel; finance sets them first"
    title_zh = "本小区尚未配置该支付渠道的商户信息，请财务先行设置"


class CredentialsNotSet(NotFound):
    title = "No credentials are set for this payment channel"
    title_zh = "尚未设置该支付渠道的商户信息"


class CredentialsUnreadable(Conflict):
    title = "The channel credentials cannot be opened (was the app secret changed?); enter them again"
    title_zh = "无法读取支付渠道的商户信息（应用密钥是否已更换？），请重新录入"


@dataclass(frozen=True, kw_only=True)
class WechatCredentials:
    """Everything the WeChat Pay client needs, opened: lives in memory for one request only."""

    mchid: str
    appid: str
    merchant_serial_no: str
    merchant_private_key: str
    apiv3_key: str
    platform_public_key: str
    platform_public_key_id: str


@dataclass(frozen=True, kw_only=True)
class AlipayCredentials:
    """Everything the Alipay client needs, opened: lives in memory for one request only."""

    app_id: str
    seller_id: str
    app_private_key: str
    alipay_public_key: str


def _key(secret: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"propdesk/channel-credentials/v1").derive(secret.encode())


def _context(estate_id: uuid.UUID, channel: Channel) -> bytes:
    return f"{estate_id}/{channel.value}".encode()


def seal(secret: str, *, estate_id: uuid.UUID, channel: Channel, values: dict[str, str]) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret)).encrypt(nonce, json.dumps(values).encode(), _context(estate_id, channel))
    return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(secret: str, *, estate_id: uuid.UUID, channel: Channel, sealed: str) -> dict[str, str]:
    if not sealed.startswith(SEALED_PREFIX):
        raise CredentialsUnreadable()
    raw = base64.b64decode(sealed[len(SEALED_PREFIX):])
    try:
        opened = AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], _context(estate_id, channel))
    except InvalidTag:
        raise CredentialsUnreadable() from None
    values: dict[str, str] = json.loads(opened)
    return values


def _read(row: ChannelCredential, *, secrets_set: list[str]) -> WechatCredentialRead:
    return WechatCredentialRead(estate_id=row.estate_id, version=row.version, channel=row.channel, mchid=row.mchid, appid=row.appid,
                                merchant_serial_no=row.merchant_serial_no, platform_public_key_id=row.platform_public_key_id,
                                secrets_set=secrets_set, updated_at=row.updated_at, updated_by=row.updated_by)


async def _row(session: AsyncSession, *, estate_id: uuid.UUID, channel: Channel) -> ChannelCredential | None:
    stmt = select(ChannelCredential).where(ChannelCredential.estate_id == estate_id, ChannelCredential.channel == channel.value)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _put(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, channel: Channel, ids: dict[str, str],
               secrets: dict[str, str], secret: str, now: datetime | None, expected_version: int | None) -> ChannelCredential:
    """Set or replace (rotate) one channel's credentials of the estate, all parts at once."""
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    now = now or utcnow()
    sealed = seal(secret, estate_id=estate_id, channel=channel, values=secrets)
    row = await versions.load_for_edit(session, select(ChannelCredential).where(
        ChannelCredential.estate_id == estate_id, ChannelCredential.channel == channel.value),
        record=versions.key("channel_credential", estate_id, channel.value), expected_version=expected_version)
    action = "channel_credential.rotate" if row is not None else "channel_credential.create"
    row = row or ChannelCredential(estate_id=estate_id, channel=channel, mchid="", appid="", merchant_serial_no="",
                                   platform_public_key_id="", sealed="", updated_at=now)
    before = audit.audit_snapshot(row) if action.endswith("rotate") else None
    for name, value in {"merchant_serial_no": "", "platform_public_key_id": "", **ids}.items():
        setattr(row, name, value)
    row.sealed, row.updated_at, row.updated_by = sealed, now, actor.id
    session.add(row)
    await session.flush()
    # The trail says that the secrets changed, never what they are (`sealed` is excluded).
    await audit.record(session, actor=actor, action=action, row=row, before=before)
    return row


async def put_wechat(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: WechatCredentialWrite,
                     secret: str, now: datetime | None = None, expected_version: int | None = None) -> WechatCredentialRead:
    """Set or replace (rotate) the estate's WeChat Pay credentials, all parts at once."""
    ids = {"mchid": data.mchid, "appid": data.appid, "merchant_serial_no": data.merchant_serial_no,
           "platform_public_key_id": data.platform_public_key_id}
    row = await _put(session, actor=actor, estate_id=estate_id, channel=Channel.wechat, ids=ids,
                     secrets={f: getattr(data, f) for f in SECRET_FIELDS}, secret=secret, now=now,
                     expected_version=expected_version)
    return _read(row, secrets_set=list(SECRET_FIELDS))


async def get_wechat(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> WechatCredentialRead:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    row = await _row(session, estate_id=estate_id, channel=Channel.wechat)
    if row is None:
        raise CredentialsNotSet(channel=Channel.wechat.value)
    return _read(row, secrets_set=list(SECRET_FIELDS) if row.sealed else [])


async def open_wechat(session: AsyncSession, *, estate_id: uuid.UUID, secret: str) -> WechatCredentials:
    """The estate's credentials opened, for one call to the channel; ChannelNotConfigured without them."""
    row = await _row(session, estate_id=estate_id, channel=Channel.wechat)
    if row is None:
        raise ChannelNotConfigured(channel=Channel.wechat.value)
    values = unseal(secret, estate_id=estate_id, channel=Channel.wechat, sealed=row.sealed)
    return WechatCredentials(mchid=row.mchid, appid=row.appid, merchant_serial_no=row.merchant_serial_no,
                             platform_public_key_id=row.platform_public_key_id, **values)


# --- Alipay: the app id is kept in `appid`, the seller's PID in `mchid` -----------------------

def _read_alipay(row: ChannelCredential) -> AlipayCredentialRead:
    return AlipayCredentialRead(estate_id=row.estate_id, version=row.version, channel=row.channel, app_id=row.appid,
                                seller_id=row.mchid, secrets_set=list(ALIPAY_SECRET_FIELDS) if row.sealed else [],
                                updated_at=row.updated_at, updated_by=row.updated_by)


async def put_alipay(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: AlipayCredentialWrite,
                     secret: str, now: datetime | None = None, expected_version: int | None = None) -> AlipayCredentialRead:
    """Set or replace (rotate) the estate's Alipay app, all parts at once."""
    row = await _put(session, actor=actor, estate_id=estate_id, channel=Channel.alipay,
                     ids={"mchid": data.seller_id, "appid": data.app_id},
                     secrets={f: getattr(data, f) for f in ALIPAY_SECRET_FIELDS}, secret=secret, now=now,
                     expected_version=expected_version)
    return _read_alipay(row)


async def get_alipay(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> AlipayCredentialRead:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    row = await _row(session, estate_id=estate_id, channel=Channel.alipay)
    if row is None:
        raise CredentialsNotSet(channel=Channel.alipay.value)
    return _read_alipay(row)


async def open_alipay(session: AsyncSession, *, estate_id: uuid.UUID, secret: str) -> AlipayCredentials:
    """The estate's Alipay app opened, for one call to the channel; ChannelNotConfigured without it."""
    row = await _row(session, estate_id=estate_id, channel=Channel.alipay)
    if row is None:
        raise ChannelNotConfigured(channel=Channel.alipay.value)
    values = unseal(secret, estate_id=estate_id, channel=Channel.alipay, sealed=row.sealed)
    return AlipayCredentials(app_id=row.appid, seller_id=row.mchid, **values)
