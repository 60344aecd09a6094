"""Deposits, the account and the deduction job over HTTP and the job runner: shared by the prepaid tests."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.jobs.runner import run_job
from tests.factories import Staff
from tests.helpers.payments import API, Desk


async def deposit(client, d: Desk, *, staff: Staff | None = None, key: str | None = None, unit_id=None, **body):
    body = {"method": "cash", **body}
    headers = {**(staff or d.staff).headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(f"{API}/units/{unit_id or d.unit.id}/deposits", json=body, headers=headers)


async def account(client, d: Desk, staff: Staff | None = None) -> dict:
    r = await client.get(f"{API}/units/{d.unit.id}/account", headers=(staff or d.staff).headers)
    assert r.status_code == 200, r.text
    return r.json()


def earmarks(acc: dict) -> dict[str | None, str]:
    return {e["fee_item_id"]: e["balance"] for e in acc["earmarks"]}


async def deduct(app, d: Desk, *, now: datetime | None = None) -> dict:
    """The 06:30 deduction job for the desk's estate, forced (a test runs it more than once a day)."""
    [result] = await run_job(app.state.sessionmaker, "account_deduction", estate_id=d.estate.id, force=True,
                             now=now or datetime.now(UTC))
    assert result.status == "succeeded", result
    return result.summary


async def refund_request(client, d: Desk, staff: Staff, *, key: str | None = None, **body):
    body = {"method": "cash", "reason": "业主搬走，退预存款", **body}
    headers = {**staff.headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(f"{API}/units/{d.unit.id}/account/refunds", json=body, headers=headers)
