"""Complaints: who may call what (401/403/404) and bad input refused with nothing written."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.complaints.model import Complaint, ComplaintDeadline, ComplaintStep
from tests.factories import make_staff
from tests.helpers.complaints import API, body, post, register, world
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, make_building, make_owner, make_unit
from tests.repairs_factories import make_order


def operations(estate_id: Any, cid: Any, handler_id: Any) -> list[tuple[str, str, dict | None]]:
    deadlines = {s: {"amount": n, "unit": "days"} for s, n in (("urgent", 1), ("high", 3), ("normal", 7), ("low", 15))}
    return [
        ("POST", f"/estates/{estate_id}/complaints", {"channel": "phone", "category": "noise", "description": "x"}),
        ("GET", f"/estates/{estate_id}/complaints", None),
        ("GET", f"/complaints/{cid}", None),
        ("POST", f"/complaints/{cid}/assign", {"handler_id": str(handler_id)}),
        ("POST", f"/complaints/{cid}/steps", {"note": "x"}),
        ("POST", f"/complaints/{cid}/resolve", {"resolution": "x"}),
        ("POST", f"/complaints/{cid}/feedback", {"satisfied": True}),
        ("POST", f"/complaints/{cid}/escalate", {"reason": "x"}),
        ("POST", f"/complaints/{cid}/withdraw", {"reason": "x"}),
        ("GET", f"/estates/{estate_id}/complaint-deadlines", None),
        ("PUT", f"/estates/{estate_id}/complaint-deadlines", deadlines),
        ("GET", f"/estates/{estate_id}/complaint-stats", None),
    ]


async def snapshot_counts(session) -> tuple[int, ...]:
    return (await count_rows(session, Complaint), await count_rows(session, ComplaintStep),
            await count_rows(session, ComplaintDeadline), await count_rows(session, AuditEntry))


class TestAccess:
    async def test_anonymous_401(self, client, session):
        w = await world(session)
        c = await register(client, w)
        for method, path, payload in operations(w.estate.id, c["id"], w.handler.id):
            r = await client.request(method, API + path, json=payload)
            assert r.status_code == 401, path

    async def test_wrong_roles_403_and_nothing_written(self, client, session):
        w = await world(session)
        c = await register(client, w)
        counts = await snapshot_counts(session)
        tech = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        for method, path, payload in operations(w.estate.id, c["id"], w.handler.id):
            r = await client.request(method, API + path, json=payload, headers=tech.headers)
            assert r.status_code == 403, path
        # The desk registers and records, but does not assign, resolve, withdraw or set deadlines.
        for method, path, payload in operations(w.estate.id, c["id"], w.handler.id):
            if path.endswith(("/assign", "/resolve", "/withdraw")) or method == "PUT":
                r = await client.request(method, API + path, json=payload, headers=w.desk.headers)
                assert r.status_code == 403, path
        assert await snapshot_counts(session) == counts

    async def test_other_estate_404(self, client, session):
        w = await world(session)
        c = await register(client, w)
        counts = await snapshot_counts(session)
        outsider = await make_staff(session, estates=[w.other], roles=[Role.admin])
        theirs = await make_staff(session, estates=[w.other], roles=[Role.manager])
        for method, path, payload in operations(w.estate.id, c["id"], theirs.id):
            r = await client.request(method, API + path, json=payload, headers=outsider.headers)
            assert r.status_code == 404, path
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await snapshot_counts(session) == counts
        assert (await session.get(Complaint, c["id"], populate_existing=True)).status == "registered"


class TestBadInput:
    async def test_register_refusals(self, client, session):
        w = await world(session)
        other_unit = await make_unit(session, building=await make_building(session, estate=w.other, number=1), number="101")
        other_owner = await make_owner(session, estate=w.other, full_name="李四")
        other_request = (await make_order(session, estate=w.other, unit=other_unit)).request_id
        now = utcnow()
        url = f"{API}/estates/{w.estate.id}/complaints"
        cases = [
            (body(w, channel="fax"), 422, "validation-failed"),
            (body(w, category=""), 422, "validation-failed"),
            (body(w, description=""), 422, "validation-failed"),
            (body(w, description="a\x00b"), 422, "validation-failed"),
            (body(w, description="x" * 4001), 422, "validation-failed"),
            (body(w, status="closed"), 422, "validation-failed"),
            (body(w, number="TS-1"), 422, "validation-failed"),
            (body(w, received_at="2026-11-20T10:00:00"), 422, "validation-failed"),  # no zone
            (body(w, received_at=(now + timedelta(hours=1)).isoformat()), 422, "complaint-time-out-of-range"),
            (body(w, received_at=(now - timedelta(days=91)).isoformat()), 422, "complaint-time-out-of-range"),
            (body(w, unit_id=str(other_unit.id)), 422, "complaint-ref-not-in-estate"),
            (body(w, owner_id=str(other_owner.id)), 422, "complaint-ref-not-in-estate"),
            (body(w, service_request_id=str(other_request)), 422, "complaint-ref-not-in-estate"),
        ]
        counts = await snapshot_counts(session)
        for payload, code, kind in cases:
            r = await client.post(url, json=payload, headers=w.desk.headers)
            assert (r.status_code, r.json()["type"]) == (code, f"/problems/{kind}"), (payload, r.text)
        assert await snapshot_counts(session) == counts

    async def test_verb_refusals(self, client, session):
        w = await world(session)
        c = await register(client, w)
        await post(client, c["id"], "assign", {"handler_id": str(w.handler.id)}, w.director)
        theirs = await make_staff(session, estates=[w.other], roles=[Role.manager])
        gone = await make_staff(session, estates=[w.estate], roles=[Role.manager], is_active=False)
        counts = await snapshot_counts(session)
        now = utcnow()
        cases = [
            ("assign", {"handler_id": str(theirs.id)}, 422, "handler-not-in-estate"),
            ("assign", {"handler_id": str(gone.id)}, 422, "handler-not-in-estate"),
            ("assign", {"handler_id": "nope"}, 422, "validation-failed"),
            ("steps", {"note": "   "}, 422, "validation-failed"),
            ("steps", {"note": "x", "done_by": str(theirs.id)}, 422, "handler-not-in-estate"),
            ("steps", {"note": "x", "done_at": (now + timedelta(hours=1)).isoformat()}, 422, "complaint-time-out-of-range"),
            ("steps", {"note": "x", "done_at": (now - timedelta(days=2)).isoformat()}, 422, "complaint-time-out-of-range"),
            ("steps", {"note": "x", "extra": 1}, 422, "validation-failed"),
            ("resolve", {}, 422, "validation-failed"),
            ("feedback", {"satisfied": "maybe"}, 422, "validation-failed"),
            ("escalate", {"reason": ""}, 422, "validation-failed"),
        ]
        for verb, payload, code, kind in cases:
            r = await client.post(f"{API}/complaints/{c['id']}/{verb}", json=payload, headers=w.director.headers)
            assert (r.status_code, r.json()["type"]) == (code, f"/problems/{kind}"), (verb, payload, r.text)
        await post(client, c["id"], "resolve", {"resolution": "x"}, w.director)
        r = await client.post(f"{API}/complaints/{c['id']}/feedback", json={"satisfied": False}, headers=w.desk.headers)
        assert (r.status_code, r.json()["type"]) == (422, "/problems/complaint-needs-text")
        assert (await session.get(Complaint, c["id"], populate_existing=True)).status == "resolved"
        assert await count_rows(session, ComplaintStep) == counts[1] + 1

    async def test_query_and_settings_refusals(self, client, session):
        w = await world(session)
        base = f"{API}/estates/{w.estate.id}"
        for path, params in [("/complaints", {"status": "open"}), ("/complaints", {"sort": "description"}),
                             ("/complaints", {"received_from": "1999-01-01"}), ("/complaint-stats", {"month": "2026-13"}),
                             ("/complaint-stats", {"month": "11-2026"}), ("/complaints", {"limit": 0})]:
            r = await client.get(base + path, params=params, headers=w.desk.headers)
            assert r.status_code == 422, (path, params, r.text)
            assert_422(r, next(iter(params)))
        for payload in [{"urgent": {"amount": 0, "unit": "hours"}}, {}, {"urgent": {"amount": 1, "unit": "weeks"}}]:
            full = {s: {"amount": 1, "unit": "days"} for s in ("urgent", "high", "normal", "low")} | payload
            r = await client.put(f"{base}/complaint-deadlines", json=full if payload else {}, headers=w.director.headers)
            assert r.status_code == 422, payload
            assert_422(r, next(iter(payload), "urgent"))
        assert await count_rows(session, ComplaintDeadline) == 0
