"""A desk with WeChat Pay configured against the fake channel, and QR payments paid through it.

Shared by the channel tests (the reconciliation's first; the channel's own module keeps its copies)."""
from __future__ import annotations

import uuid
from typing import Any

from app.domain.auth.roles import Role
from tests.factories import Staff, make_staff
from tests.fakes.wechatpay import FakeWechatPay
from tests.helpers.payments import API, Desk, desk

PUBLIC = "https://desk.example.com"


async def configured(client, session, fake: FakeWechatPay, **desk_options: Any) -> tuple[Desk, Staff]:
    """A desk whose estate has the fake's merchant account, and a finance user of that estate."""
    d = await desk(session, **desk_options)
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    r = await client.put(f"{API}/estates/{d.estate.id}/payment-channels/wechat", json=fake.credentials(), headers=finance.headers)
    assert r.status_code == 200, r.text
    return d, finance


async def qr(client, d: Desk, charges) -> dict[str, Any]:
    body = {"channel": "wechat", "kind": "native", "charge_ids": [str(c.id) for c in charges]}
    r = await client.post(f"{API}/units/{d.unit.id}/channel-payments", json=body,
                          headers={**d.staff.headers, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()


async def paid_qr(client, d: Desk, fake: FakeWechatPay, charges) -> dict[str, Any]:
    """A QR payment the owner paid and the channel told us of: booked here. Its transaction."""
    created = await qr(client, d, charges)
    tx = fake.pay(created["out_trade_no"])
    r = await fake.notify(client, created["out_trade_no"])
    assert r.status_code == 200 and r.json() == {"code": "SUCCESS"}, r.text
    return tx
