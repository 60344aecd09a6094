"""A cashier's drawer over HTTP: the open session, handing it over, acknowledging it."""
from __future__ import annotations

from tests.factories import Staff
from tests.helpers.payments import API, Desk


async def current(client, d: Desk, staff: Staff | None = None) -> dict:
    r = await client.get(f"{API}/estates/{d.estate.id}/cashier-sessions/current", headers=(staff or d.staff).headers)
    assert r.status_code == 200, r.text
    return r.json()


async def hand_over(client, sid: str, staff: Staff, **body):
    return await client.post(f"{API}/cashier-sessions/{sid}/hand-over", json=body, headers=staff.headers)


async def acknowledge(client, sid: str, staff: Staff, **body):
    return await client.post(f"{API}/cashier-sessions/{sid}/acknowledge", json=body, headers=staff.headers)


async def get(client, sid: str, staff: Staff) -> dict:
    r = await client.get(f"{API}/cashier-sessions/{sid}", headers=staff.headers)
    assert r.status_code == 200, r.text
    return r.json()
