"""Walk-in visitors (接待, §7.3.12): the log, its links to what the visit led to, the daily list."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.desk.model import Visitor, VisitorLink
from app.domain.registry.model import Estate, Owner, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_receipt
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"


@dataclass
class World:
    estate: Estate
    other: Estate
    unit: Unit
    owner: Owner
    other_unit: Unit
    desk: Staff


async def world(session) -> World:
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2", number="301")
    owner = await make_owner(session, estate=estate, full_name="王建國", phones=["138 0013 8000"], units=[unit])
    other_unit = await make_unit(session, building=await make_building(session, estate=other, number=1), number="101")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="前台小李")
    return World(estate, other, unit, owner, other_unit, desk)


def visit(w: World, **extra) -> dict:
    return {"visitor_name": "王先生", "contact_phone": "138 0013 8000", "unit_id": str(w.unit.id), "owner_id": str(w.owner.id),
            "purpose": "咨询装修手续", "action_taken": "给了装修申请表", **extra}


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        w = await world(session)
        v = (await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w), headers=w.desk.headers)).json()
        for method, path, body in [
            ("POST", f"/estates/{w.estate.id}/visitors", visit(w)), ("GET", f"/estates/{w.estate.id}/visitors", None),
            ("GET", f"/visitors/{v['id']}", None), ("POST", f"/visitors/{v['id']}/links", {"kind": "payment", "id": v["id"]}),
        ]:
            r = await client.request(method, API + path, json=body)
            assert r.status_code == 401, path
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await count_rows(session, Visitor) == 1

    async def test_wrong_role_403_and_nothing_written(self, client, session):
        w = await world(session)
        tech = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        manager = await make_staff(session, estates=[w.estate], roles=[Role.manager])
        assert (await client.get(f"{API}/estates/{w.estate.id}/visitors", headers=tech.headers)).status_code == 403
        r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w), headers=manager.headers)
        assert r.status_code == 403
        v = (await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w), headers=w.desk.headers)).json()
        assert (await client.get(f"{API}/visitors/{v['id']}", headers=tech.headers)).status_code == 403
        order = await make_order(session, estate=w.estate, unit=w.unit)
        r = await client.post(f"{API}/visitors/{v['id']}/links", json={"kind": "service_request", "id": str(order.request_id)},
                              headers=manager.headers)
        assert r.status_code == 403
        # The manager reads the desk's books.
        assert (await client.get(f"{API}/visitors/{v['id']}", headers=manager.headers)).status_code == 200
        assert await count_rows(session, Visitor) == 1 and await count_rows(session, VisitorLink) == 0

    async def test_other_estate_404(self, client, session):
        w = await world(session)
        theirs = await make_staff(session, estates=[w.other], roles=[Role.receptionist])
        v = (await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w), headers=w.desk.headers)).json()
        assert (await client.get(f"{API}/estates/{w.estate.id}/visitors", headers=theirs.headers)).status_code == 404
        assert (await client.get(f"{API}/visitors/{v['id']}", headers=theirs.headers)).status_code == 404
        r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json={"visitor_name": "x", "purpose": "y"}, headers=theirs.headers)
        assert r.status_code == 404
        order = await make_order(session, estate=w.other, unit=w.other_unit)
        r = await client.post(f"{API}/visitors/{v['id']}/links", json={"kind": "service_request", "id": str(order.request_id)},
                              headers=theirs.headers)
        assert r.status_code == 404
        assert await count_rows(session, Visitor) == 1 and await count_rows(session, VisitorLink) == 0


class TestLogAVisit:
    async def test_visit_with_links_is_logged_and_audited(self, client, session):
        w = await world(session)
        order = await make_order(session, estate=w.estate, unit=w.unit)
        receipt = await make_receipt(session, estate=w.estate, unit=w.unit, cashier=w.desk.user, amount="160.56")
        links = [{"kind": "service_request", "id": str(order.request_id)}, {"kind": "receipt", "id": str(receipt.id)},
                 {"kind": "payment", "id": str(receipt.payment_id)}]
        r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w, links=links), headers=w.desk.headers)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["visitor_name"], body["purpose"], body["action_taken"]) == ("王先生", "咨询装修手续", "给了装修申请表")
        assert (body["unit_id"], body["owner_id"], body["received_by"]) == (str(w.unit.id), str(w.owner.id), str(w.desk.id))
        assert body["received_by_name"] == "前台小李"
        assert [(link["kind"], link["id"]) for link in body["links"]] == [(x["kind"], x["id"]) for x in links]
        assert datetime.fromisoformat(body["visited_at"]) > utcnow() - timedelta(minutes=1)
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.estate_id == w.estate.id))).scalars().all()
        assert actions.count("visitor.create") == 1 and actions.count("visitor_link.create") == 3
        got = await client.get(f"{API}/visitors/{body['id']}", headers=w.desk.headers)
        assert got.status_code == 200 and got.json() == body

    async def test_link_added_after_the_visit(self, client, session):
        w = await world(session)
        v = (await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w), headers=w.desk.headers)).json()
        order = await make_order(session, estate=w.estate, unit=w.unit)
        link = {"kind": "service_request", "id": str(order.request_id)}
        r = await client.post(f"{API}/visitors/{v['id']}/links", json=link, headers=w.desk.headers)
        assert r.status_code == 201, r.text
        assert [x["id"] for x in r.json()["links"]] == [str(order.request_id)]
        again = await client.post(f"{API}/visitors/{v['id']}/links", json=link, headers=w.desk.headers)
        assert again.status_code == 409 and again.json()["type"] == "/problems/link-already-exists"
        assert await count_rows(session, VisitorLink) == 1

    async def test_bare_minimum_visit(self, client, session):
        w = await world(session)
        r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json={"visitor_name": "快递员", "purpose": "找3号楼业主"},
                              headers=w.desk.headers)
        assert r.status_code == 201, r.text
        assert r.json()["unit_id"] is None and r.json()["links"] == []


async def make_complaint(session, estate: Estate):
    from app.domain.complaints.model import Complaint

    now = utcnow()
    row = Complaint(estate_id=estate.id, number=f"TS-{now.timestamp()}", channel="walk_in", category="noise", severity="normal",
                    description="楼上噪音", received_at=now, deadline=now + timedelta(days=3))
    session.add(row)
    await session.commit()
    return row


class TestComplaintLinks:
    async def test_a_complaint_of_the_estate_only(self, client, session):
        w = await world(session)
        ours, theirs = await make_complaint(session, w.estate), await make_complaint(session, w.other)
        r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w, links=[{"kind": "complaint", "id": str(theirs.id)}]),
                              headers=w.desk.headers)
        assert r.status_code == 422 and r.json()["missing"] == [{"kind": "complaint", "id": str(theirs.id)}]
        assert r.json()["type"] == "/problems/linked-record-not-found"
        r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w, links=[{"kind": "complaint", "id": str(ours.id)}]),
                              headers=w.desk.headers)
        assert r.status_code == 201, r.text
        assert r.json()["links"][0]["kind"] == "complaint" and r.json()["links"][0]["id"] == str(ours.id)


class TestBadInput:
    async def test_refused_and_nothing_written(self, client, session):
        w = await world(session)
        theirs = await make_order(session, estate=w.other, unit=w.other_unit)
        future = (utcnow() + timedelta(hours=1)).isoformat()
        cases = [
            (visit(w, links=[{"kind": "service_request", "id": str(theirs.request_id)}]), "linked-record-not-found"),
            (visit(w, links=[{"kind": "payment", "id": str(w.unit.id)}]), "linked-record-not-found"),
            (visit(w, links=[{"kind": "complaint", "id": str(w.unit.id)}]), "linked-record-not-found"),
            (visit(w, unit_id=str(w.other_unit.id)), "unit-not-in-estate"),
            (visit(w, owner_id=str(w.unit.id)), "owner-not-in-estate"),
            (visit(w, visited_at=future), "in-the-future"),
        ]
        for body, code in cases:
            r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json=body, headers=w.desk.headers)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["type"] == f"/problems/{code}", r.text
        twice = [{"kind": "payment", "id": str(w.unit.id)}] * 2
        malformed = [
            {"purpose": "x"}, visit(w, visitor_name=""), visit(w, purpose="a\x00b"), visit(w, colour="red"),
            visit(w, visited_at="2026-01-01T10:00:00"), visit(w, links=twice), visit(w, links=[{"kind": "parcel", "id": str(w.unit.id)}]),
            visit(w, purpose="x" * 201),
        ]
        for body in malformed:
            r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json=body, headers=w.desk.headers)
            assert r.status_code == 422, (body, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await count_rows(session, Visitor) == 0 and await count_rows(session, VisitorLink) == 0
        assert await count_rows(session, AuditEntry, AuditEntry.entity.in_(["visitor", "visitor_link"])) == 0

    async def test_unknown_visitor_404_and_bad_link_422(self, client, session):
        w = await world(session)
        v = (await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w), headers=w.desk.headers)).json()
        r = await client.post(f"{API}/visitors/{w.unit.id}/links", json={"kind": "payment", "id": str(w.unit.id)}, headers=w.desk.headers)
        assert r.status_code == 404
        r = await client.post(f"{API}/visitors/{v['id']}/links", json={"kind": "payment", "id": str(w.unit.id)}, headers=w.desk.headers)
        assert r.status_code == 422 and r.json()["missing"] == [{"kind": "payment", "id": str(w.unit.id)}]
        assert r.json()["type"] == "/problems/linked-record-not-found"
        assert await count_rows(session, VisitorLink) == 0


class TestDailyList:
    async def test_the_estate_local_day(self, client, session):
        w = await world(session)
        # 2025-03-10 in Shanghai runs from 2025-03-09T16:00Z to 2025-03-10T16:00Z.
        times = {"before": datetime(2025, 3, 9, 15, 59, 59, tzinfo=UTC), "first": datetime(2025, 3, 9, 16, 0, tzinfo=UTC),
                 "last": datetime(2025, 3, 10, 15, 59, 59, tzinfo=UTC), "after": datetime(2025, 3, 10, 16, 0, tzinfo=UTC)}
        for name, at in times.items():
            r = await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w, visitor_name=name, visited_at=at.isoformat()),
                                  headers=w.desk.headers)
            assert r.status_code == 201, r.text
        theirs = await make_staff(session, estates=[w.other], roles=[Role.receptionist])
        r = await client.post(f"{API}/estates/{w.other.id}/visitors", json={"visitor_name": "other", "purpose": "x",
                              "visited_at": times["first"].isoformat()}, headers=theirs.headers)
        assert r.status_code == 201
        r = await client.get(f"{API}/estates/{w.estate.id}/visitors", params={"date": "2025-03-10"}, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        assert [v["visitor_name"] for v in r.json()["items"]] == ["first", "last"] and r.json()["total"] == 2
        r = await client.get(f"{API}/estates/{w.estate.id}/visitors", params={"date": "2025-03-10", "unit_id": str(w.other_unit.id)},
                             headers=w.desk.headers)
        assert r.json()["total"] == 0

    async def test_default_today_and_bad_query(self, client, session):
        w = await world(session)
        await client.post(f"{API}/estates/{w.estate.id}/visitors", json=visit(w), headers=w.desk.headers)
        r = await client.get(f"{API}/estates/{w.estate.id}/visitors", headers=w.desk.headers)
        assert r.json()["total"] == 1
        for params in ({"date": "yesterday"}, {"date": "1999-12-31"}, {"sort": "colour"}, {"limit": 0}):
            r = await client.get(f"{API}/estates/{w.estate.id}/visitors", params=params, headers=w.desk.headers)
            assert r.status_code == 422, params
            assert_422(r, next(iter(params)))
