"""The shift log (夜班記錄, §7.2): opening a shift's book, writing events into the open one, reading them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.desk.model import ShiftHandover, ShiftLogEntry
from app.domain.registry.model import Estate
from tests.factories import Staff, make_staff
from tests.helpers.problems import assert_422, assert_invalid
from tests.registry_factories import count_rows, two_estates

API = "/api/v1"


@dataclass
class World:
    estate: Estate
    other: Estate
    night: Staff
    desk: Staff


async def world(session) -> World:
    estate, other = await two_estates(session)
    night = await make_staff(session, estates=[estate], roles=[Role.night_duty], full_name="夜班老張")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="前台小李")
    return World(estate, other, night, desk)


async def open_night(client, w: World, **body) -> dict:
    r = await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "night", **body}, headers=w.night.headers)
    assert r.status_code == 201, r.text
    return r.json()


def event(**extra) -> dict:
    return {"place": "3号楼地下车库", "what": "车库排水沟冒水", "action_taken": "放了警示牌", "needs_follow_up": True, **extra}


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        w = await world(session)
        shift = await open_night(client, w)
        for method, path, body in [
            ("POST", f"/estates/{w.estate.id}/shifts", {"shift": "night"}), ("GET", f"/estates/{w.estate.id}/shifts", None),
            ("GET", f"/shifts/{shift['id']}", None), ("POST", f"/estates/{w.estate.id}/shift-log", event()),
            ("GET", f"/estates/{w.estate.id}/shift-log", None),
        ]:
            assert (await client.request(method, API + path, json=body)).status_code == 401, path
        assert await count_rows(session, ShiftLogEntry) == 0

    async def test_wrong_role_403_and_nothing_written(self, client, session):
        w = await world(session)
        tech = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
        r = await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "night"}, headers=finance.headers)
        assert r.status_code == 403
        shift = await open_night(client, w)
        assert (await client.post(f"{API}/estates/{w.estate.id}/shift-log", json=event(), headers=finance.headers)).status_code == 403
        assert (await client.get(f"{API}/estates/{w.estate.id}/shift-log", headers=tech.headers)).status_code == 403
        assert (await client.get(f"{API}/estates/{w.estate.id}/shifts", headers=tech.headers)).status_code == 403
        assert (await client.get(f"{API}/shifts/{shift['id']}", headers=tech.headers)).status_code == 403
        assert (await client.get(f"{API}/shifts/{shift['id']}", headers=finance.headers)).status_code == 200
        assert await count_rows(session, ShiftLogEntry) == 0 and await count_rows(session, ShiftHandover) == 1

    async def test_other_estate_404(self, client, session):
        w = await world(session)
        shift = await open_night(client, w)
        theirs = await make_staff(session, estates=[w.other], roles=[Role.night_duty])
        for method, path, body in [
            ("POST", f"/estates/{w.estate.id}/shifts", {"shift": "morning"}), ("GET", f"/estates/{w.estate.id}/shifts", None),
            ("GET", f"/shifts/{shift['id']}", None), ("POST", f"/estates/{w.estate.id}/shift-log", event()),
            ("GET", f"/estates/{w.estate.id}/shift-log", None),
        ]:
            assert (await client.request(method, API + path, json=body, headers=theirs.headers)).status_code == 404, path
        assert await count_rows(session, ShiftLogEntry) == 0 and await count_rows(session, ShiftHandover) == 1


class TestTheLog:
    async def test_events_land_in_the_open_shift(self, client, session):
        w = await world(session)
        shift = await open_night(client, w)
        assert (shift["status"], shift["shift"], shift["opened_by_name"]) == ("open", "night", "夜班老張")
        assert shift["allowed_actions"] == ["hand_over", "log_entry"] and shift["entries"] == []
        at = (utcnow() - timedelta(hours=3)).replace(microsecond=0)
        r = await client.post(f"{API}/estates/{w.estate.id}/shift-log", json=event(occurred_at=at.isoformat()), headers=w.night.headers)
        assert r.status_code == 201, r.text
        entry = r.json()
        assert (entry["shift_id"], entry["place"], entry["what"], entry["action_taken"]) == (
            shift["id"],
            "3号楼地下车库",
            "车库排水沟冒水",
            "放了警示牌",
        )
        assert datetime.fromisoformat(entry["occurred_at"]) == at and entry["logged_by_name"] == "夜班老張"
        assert entry["needs_follow_up"] is True and entry["is_unhandled"] is True
        quiet = await client.post(f"{API}/estates/{w.estate.id}/shift-log", json={"what": "巡查正常"}, headers=w.night.headers)
        assert quiet.status_code == 201 and quiet.json()["needs_follow_up"] is False
        detail = (await client.get(f"{API}/shifts/{shift['id']}", headers=w.desk.headers)).json()
        assert [e["what"] for e in detail["entries"]] == ["车库排水沟冒水", "巡查正常"]
        assert (detail["entry_count"], detail["follow_up_count"], detail["unhandled_count"]) == (2, 1, 1)
        audits = (
            (await session.execute(select(AuditEntry.action).where(AuditEntry.entity.in_(["shift", "shift_log_entry"])))).scalars().all()
        )
        assert sorted(audits) == ["shift.open", "shift_log_entry.create", "shift_log_entry.create"]

    async def test_no_open_shift_409(self, client, session):
        w = await world(session)
        r = await client.post(f"{API}/estates/{w.estate.id}/shift-log", json=event(), headers=w.night.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/no-open-shift"
        shift = await open_night(client, w)
        r = await client.post(f"{API}/shifts/{shift['id']}/hand-over", json={}, headers=w.night.headers)
        assert r.status_code == 200, r.text
        # The handed-over book takes nothing more; the next shift's book must be opened.
        r = await client.post(f"{API}/estates/{w.estate.id}/shift-log", json=event(), headers=w.night.headers)
        assert r.status_code == 409
        assert await count_rows(session, ShiftLogEntry) == 0

    async def test_one_open_book_per_estate_and_one_per_shift(self, client, session):
        w = await world(session)
        shift = await open_night(client, w)
        r = await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "morning"}, headers=w.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/shift-already-open"
        await client.post(f"{API}/shifts/{shift['id']}/hand-over", json={}, headers=w.night.headers)
        r = await client.post(
            f"{API}/estates/{w.estate.id}/shifts", json={"shift": "night", "shift_date": shift["shift_date"]}, headers=w.night.headers
        )
        assert r.status_code == 409 and r.json()["type"] == "/problems/shift-already-logged"
        r = await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "morning"}, headers=w.desk.headers)
        assert r.status_code == 201
        # Another estate keeps its own books.
        theirs = await make_staff(session, estates=[w.other], roles=[Role.night_duty])
        assert (await client.post(f"{API}/estates/{w.other.id}/shifts", json={"shift": "night"}, headers=theirs.headers)).status_code == 201
        assert await count_rows(session, ShiftHandover) == 3

    async def test_bad_input_422_and_nothing_written(self, client, session):
        w = await world(session)
        tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
        refusals = iter(
            [
                ("validation-failed", "shift"),
                ("in-the-future", "shift_date"),
                ("validation-failed", "shift_date"),
                ("validation-failed", "extra"),
                ("validation-failed", "shift"),
            ]
        )
        for body in (
            {"shift": "evening"},
            {"shift": "night", "shift_date": tomorrow},
            {"shift": "night", "shift_date": "1999-01-01"},
            {"shift": "night", "extra": 1},
            {},
        ):
            r = await client.post(f"{API}/estates/{w.estate.id}/shifts", json=body, headers=w.night.headers)
            assert r.status_code == 422, (body, r.text)
            assert_invalid(r, *next(refusals))
        assert await count_rows(session, ShiftHandover) == 0
        await open_night(client, w)
        future = (utcnow() + timedelta(hours=1)).isoformat()
        refusals = iter(
            [
                ("in-the-future", "occurred_at"),
                ("validation-failed", "what"),
                ("validation-failed", "what"),
                ("validation-failed", "occurred_at"),
                ("validation-failed", "place"),
                ("validation-failed", "needs_follow_up"),
                ("validation-failed", "what"),
            ]
        )
        for body in (
            event(occurred_at=future),
            event(what=""),
            event(what="a\x00"),
            event(occurred_at="2026-01-01T01:00:00"),
            event(place="x" * 201),
            event(needs_follow_up="perhaps"),
            {"place": "x"},
        ):
            r = await client.post(f"{API}/estates/{w.estate.id}/shift-log", json=body, headers=w.night.headers)
            assert r.status_code == 422, (body, r.text)
            assert_invalid(r, *next(refusals))
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await count_rows(session, ShiftLogEntry) == 0


class TestReading:
    async def test_filters(self, client, session):
        w = await world(session)
        night = await open_night(client, w, shift_date="2025-03-09")
        await client.post(
            f"{API}/estates/{w.estate.id}/shift-log",
            json=event(occurred_at=datetime(2025, 3, 9, 18, 0, tzinfo=UTC).isoformat()),
            headers=w.night.headers,
        )
        await client.post(f"{API}/estates/{w.estate.id}/shift-log", json={"what": "巡查正常"}, headers=w.night.headers)
        await client.post(f"{API}/shifts/{night['id']}/hand-over", json={}, headers=w.night.headers)
        await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "morning"}, headers=w.desk.headers)
        await client.post(f"{API}/estates/{w.estate.id}/shift-log", json={"what": "业主来电"}, headers=w.desk.headers)
        url = f"{API}/estates/{w.estate.id}/shift-log"

        async def whats(**params) -> list[str]:
            r = await client.get(url, params=params, headers=w.desk.headers)
            assert r.status_code == 200, r.text
            return [e["what"] for e in r.json()["items"]]

        assert await whats() == ["业主来电", "巡查正常", "车库排水沟冒水"]
        assert await whats(date="2025-03-09") == ["巡查正常", "车库排水沟冒水"]
        assert await whats(shift_id=night["id"], needs_follow_up="true") == ["车库排水沟冒水"]
        assert await whats(unhandled="true") == ["车库排水沟冒水"]
        assert await whats(unhandled="false") == ["业主来电", "巡查正常"]
        shifts = (await client.get(f"{API}/estates/{w.estate.id}/shifts", params={"status": "handed_over"}, headers=w.desk.headers)).json()
        assert [s["id"] for s in shifts["items"]] == [night["id"]]
        assert (shifts["items"][0]["next_shift"], shifts["items"][0]["handed_over_by_name"]) == ("morning", "夜班老張")
        r = await client.get(f"{API}/estates/{w.estate.id}/shifts", params={"status": "closed"}, headers=w.desk.headers)
        assert r.status_code == 422
        assert_422(r, "status")
