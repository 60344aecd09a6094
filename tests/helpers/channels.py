"""A desk with WeChat Pay (or Alipay) configured against the fake channel, and its payments over HTTP:
shared by the channel tests (the reconciliation, the counter, the poll job; the channel's own
modules keep their copies)."""
from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from app.config import get_settings
from app.domain.auth.roles import Role
from app.jobs.runner import run_job
from tests.factories import TEST_SECRET, Staff, make_staff
from tests.fakes.alipay import FakeAlipay
from tests.fakes.wechatpay import FakeWechatPay
from tests.helpers.payments import API, Desk, desk

PUBLIC = "https://desk.example.com"
# A WeChat Pay payment code as the desk's scanner reads it: 18 digits beginning 10-15.
CODE = "134567890123456789"
# An Alipay payment code: 16 to 24 digits beginning 25 to 30.
ALIPAY_CODE = "284567890123456789"
POLL_JOB = "channel_payments_poll"
__all__ = ["ALIPAY_CODE", "API", "CODE", "POLL_JOB", "PUBLIC", "alipay_settings", "ask_qr", "channel_settings", "configured",
           "configured_alipay", "paid_qr", "poll", "poll_job_env", "qr", "rows", "scan"]


def channel_settings(settings, fake: FakeWechatPay, **overrides):
    """The app talks to the fake, tells it this public address, and waits briefly on a payment code."""
    return settings.model_copy(update={"wechatpay_gateway": fake.url, "channel_notify_base_url": PUBLIC,
                                       "channel_code_wait_seconds": 1.5, "channel_code_first_poll_seconds": 0.05,
                                       **overrides})


def alipay_settings(settings, fake: FakeAlipay, **overrides):
    """As channel_settings, for the fake Alipay gateway."""
    return settings.model_copy(update={"alipay_gateway": fake.url, "channel_notify_base_url": PUBLIC,
                                       "channel_code_wait_seconds": 1.5, "channel_code_first_poll_seconds": 0.05,
                                       **overrides})


async def configured(client, session, fake: FakeWechatPay, **desk_options: Any) -> tuple[Desk, Staff]:
    """A desk whose estate has the fake's merchant account, and a finance user of that estate."""
    d = await desk(session, **desk_options)
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    r = await client.put(f"{API}/estates/{d.estate.id}/payment-channels/wechat", json=fake.credentials(), headers=finance.headers)
    assert r.status_code == 200, r.text
    return d, finance


async def configured_alipay(client, session, fake: FakeAlipay) -> tuple[Desk, Staff]:
    """A desk whose estate has the fake's Alipay app, and a finance user of that estate."""
    d = await desk(session)
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    r = await client.put(f"{API}/estates/{d.estate.id}/payment-channels/alipay", json=fake.credentials(), headers=finance.headers)
    assert r.status_code == 200, r.text
    return d, finance


async def ask_qr(client, d: Desk, charges=None, *, key: str | None = None, channel: str = "wechat") -> httpx.Response:
    """The desk asks for a QR for the charges (default: the first two); the answer as it comes."""
    body = {"channel": channel, "kind": "native", "charge_ids": [str(c.id) for c in (charges or d.charges[:2])]}
    return await client.post(f"{API}/units/{d.unit.id}/channel-payments", json=body,
                             headers={**d.staff.headers, "Idempotency-Key": key or str(uuid.uuid4())})


async def qr(client, d: Desk, charges) -> dict[str, Any]:
    r = await ask_qr(client, d, charges)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def paid_qr(client, d: Desk, fake: FakeWechatPay, charges) -> dict[str, Any]:
    """A QR payment the owner paid and the channel told us of: booked here. Its transaction."""
    created = await qr(client, d, charges)
    tx = fake.pay(created["out_trade_no"])
    r = await fake.notify(client, created["out_trade_no"])
    assert r.status_code == 200 and r.json() == {"code": "SUCCESS"}, r.text
    return tx


async def scan(client, d: Desk, charges=None, *, auth_code: str = CODE, key: str | None = None, staff: Staff | None = None,
               unit_id=None, **extra):
    """The receptionist scans the owner's payment code for the charges (default: the first two)."""
    body = {"channel": "wechat", "charge_ids": [str(c.id) for c in (charges or d.charges[:2])], "auth_code": auth_code, **extra}
    return await client.post(f"{API}/units/{unit_id or d.unit.id}/channel-payments/counter", json=body,
                             headers={**(staff or d.staff).headers, "Idempotency-Key": key or str(uuid.uuid4())})


async def rows(session, model, *where):
    return list((await session.execute(select(model).where(*where).execution_options(populate_existing=True))).scalars())


def poll_job_env(monkeypatch, tmp_path, **gateway: str):
    """The clock's jobs read the process settings: the fake's gateway (`WECHATPAY_GATEWAY=` or
    `ALIPAY_GATEWAY=`), the test secret, no minimum age. A generator for a fixture to yield from."""
    for name, value in {"SECRET": TEST_SECRET, "DATA_DIR": str(tmp_path), **gateway,
                        "CHANNEL_NOTIFY_BASE_URL": PUBLIC, "CHANNEL_POLL_AFTER_SECONDS": "0"}.items():
        monkeypatch.setenv(f"PROPDESK_{name}", value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def poll(app, d: Desk, period: str = "2026-12-08T1000") -> dict[str, Any]:
    [result] = await run_job(app.state.sessionmaker, POLL_JOB, estate_id=d.estate.id, period=period, force=True)
    assert result.status == "succeeded", result
    return result.summary
