"""Cashier-session endpoints: 401, 403, another estate's 404, and bad input refused with nothing written."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.cash.model import CashierSession
from tests.factories import make_staff
from tests.helpers.cash import current, hand_over
from tests.helpers.payments import API, desk, pay
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows


def endpoints(estate_id, sid) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", f"/estates/{estate_id}/cashier-sessions", None),
        ("GET", f"/estates/{estate_id}/cashier-sessions/current", None),
        ("GET", f"/estates/{estate_id}/cash-handover-sheet", None),
        ("GET", f"/cashier-sessions/{sid}", None),
        ("POST", f"/cashier-sessions/{sid}/hand-over", {"counted_cash": "5.00"}),  # short, no note: never succeeds
        ("POST", f"/cashier-sessions/{sid}/acknowledge", {}),
    ]


async def unchanged(session, sid: str) -> bool:
    row = (await session.execute(select(CashierSession).where(CashierSession.id == uuid.UUID(sid))
                                 .execution_options(populate_existing=True))).scalar_one()
    return row.status == "open" and row.counted_cash is None and row.acknowledged_at is None


class TestAccess:
    async def test_anonymous_401(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        for method, url, body in endpoints(d.estate.id, sid):
            r = await client.request(method, API + url, json=body)
            assert r.status_code == 401, url
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await unchanged(session, sid)

    @pytest.mark.parametrize("role,denied", [
        (Role.technician, {0, 1, 2, 3, 4, 5}), (Role.agency, {0, 1, 2, 3, 4, 5}), (Role.records_clerk, {0, 1, 2, 3, 4, 5}),
        (Role.admin, {1, 4, 5}), (Role.cs_director, {1, 4, 5}), (Role.manager, {1, 4, 5}), (Role.night_duty, {1, 4, 5}),
        (Role.receptionist, {5}), (Role.supervisor, {5}),
    ])
    async def test_wrong_role_403(self, client, session, role, denied):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        staff = await make_staff(session, estates=[d.estate], roles=[role])
        for i, (method, url, body) in enumerate(endpoints(d.estate.id, sid)):
            r = await client.request(method, API + url, json=body, headers=staff.headers)
            assert (r.status_code == 403) == (i in denied), (url, r.status_code, r.text)
        assert await unchanged(session, sid)
        assert await count_rows(session, CashierSession) == 1 + (role in (Role.receptionist, Role.supervisor))

    async def test_other_estate_404(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        for role in (Role.supervisor, Role.finance, Role.receptionist):
            stranger = await make_staff(session, estates=[d.other], roles=[role])
            for method, url, body in endpoints(d.estate.id, sid):
                r = await client.request(method, API + url, json=body, headers=stranger.headers)
                if r.status_code == 403:
                    continue  # the role may not call it anywhere: refused before the estate is looked at
                assert r.status_code == 404, (role, url, r.text)
        assert await unchanged(session, sid)
        assert await count_rows(session, CashierSession) == 1

    async def test_unknown_session_404(self, client, session):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        for method, url, body in endpoints(d.estate.id, uuid.uuid4())[3:]:
            r = await client.request(method, API + url, json=body, headers=finance.headers)
            assert r.status_code in (403, 404) and r.json()["type"] != "about:blank", url


BAD_CASH = [-1, "-0.01", "1.234", "NaN", "nan", "Infinity", "-Infinity", "1e400", "100000000.00", "99999999999999", "abc",
            "", None, True, [], {}]


class TestBadInput:
    @pytest.mark.parametrize("counted", BAD_CASH)
    async def test_counted_cash_422(self, client, session, counted):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        r = await hand_over(client, sid, d.staff, counted_cash=counted)
        assert r.status_code == 422, r.text
        assert_422(r, "counted_cash")
        assert r.headers["content-type"].startswith("application/problem+json")
        assert await unchanged(session, sid)

    async def test_json_number_out_of_range_422(self, client, session):
        d = await desk(session)
        sid = (await current(client, d))["id"]
        for raw in (b'{"counted_cash": 1e400}', b'{"counted_cash": -1e400}', b'{"counted_cash": 1.005}'):
            r = await client.post(f"{API}/cashier-sessions/{sid}/hand-over", content=raw,
                                  headers={**d.staff.headers, "Content-Type": "application/json"})
            assert r.status_code == 422, (raw, r.text)
            assert_422(r, "counted_cash")
        assert await unchanged(session, sid)

    @pytest.mark.parametrize("body", [{}, {"counted_cash": "10.00", "note": "x" * 1001}, {"counted_cash": "10.00", "note": "a\x00b"},
                                      {"counted_cash": "10.00", "status": "acknowledged"}, {"counted_cash": "10.00", "note": 5}])
    async def test_hand_over_body_422(self, client, session, body):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        r = await client.post(f"{API}/cashier-sessions/{sid}/hand-over", json=body, headers=d.staff.headers)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/validation-failed"
        assert await unchanged(session, sid)
        assert await count_rows(session, AuditEntry, AuditEntry.action == "cashier_session.hand_over") == 0

    async def test_acknowledge_body_422(self, client, session):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        sid = (await current(client, d))["id"]
        await hand_over(client, sid, d.staff, counted_cash="0")
        named = iter(["note", "note", "acknowledged_by"])
        for body in ({"note": "x" * 1001}, {"note": "\x00"}, {"acknowledged_by": str(finance.id)}):
            r = await client.post(f"{API}/cashier-sessions/{sid}/acknowledge", json=body, headers=finance.headers)
            assert r.status_code == 422, r.text
            assert_422(r, next(named))
        row = (await session.execute(select(CashierSession).execution_options(populate_existing=True))).scalar_one()
        assert row.status == "handed_over" and row.acknowledged_by is None

    @pytest.mark.parametrize("params", [{"day": "2026-13-01"}, {"day": "yesterday"}, {"status": "lost"}, {"cashier_id": "x"},
                                        {"limit": 0}, {"limit": 201}, {"offset": -1}, {"sort": "DROP TABLE"}])
    async def test_bad_query_422(self, client, session, params):
        d = await desk(session)
        r = await client.get(f"{API}/estates/{d.estate.id}/cashier-sessions", params=params, headers=d.staff.headers)
        assert r.status_code == 422, r.text
        assert_422(r, next(iter(params)))
        if "day" in params:
            r = await client.get(f"{API}/estates/{d.estate.id}/cash-handover-sheet", params=params, headers=d.staff.headers)
            assert r.status_code == 422, r.text
            assert_422(r, next(iter(params)))

    async def test_bad_ids_422(self, client, session):
        d = await desk(session)
        named = iter(["session_id", "session_id", "estate_id"])
        for method, url in (("GET", "/cashier-sessions/nope"), ("POST", "/cashier-sessions/nope/hand-over"),
                            ("GET", "/estates/nope/cashier-sessions/current")):
            r = await client.request(method, API + url, json={"counted_cash": "1"} if method == "POST" else None,
                                     headers=d.staff.headers)
            assert r.status_code == 422, url
            assert_422(r, next(named))
        assert await count_rows(session, CashierSession) == 0
