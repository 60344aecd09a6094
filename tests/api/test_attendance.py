"""Attendance (簽到, §7.1, §7.3.16): sign in and out per shift on the server's clock; late and early leave flagged."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.domain.attendance.model import AttendanceRecord
from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Estate
from tests.factories import Staff, make_staff
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows, two_estates

API = "/api/v1"
SH = ZoneInfo("Asia/Shanghai")


@dataclass
class World:
    estate: Estate
    other: Estate
    desk: Staff
    tech: Staff
    supervisor: Staff


async def world(session) -> World:
    estate, other = await two_estates(session)
    return World(estate, other, await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="李娜"),
                 await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅"),
                 await make_staff(session, estates=[estate], roles=[Role.supervisor]))


@pytest.fixture
def clock(time_machine):
    """Set the server's clock to an Asia/Shanghai wall-clock time: clock(2026, 5, 12, 7, 45)."""

    def set_to(*parts: int) -> datetime:
        now = datetime(*parts, tzinfo=SH)
        time_machine.move_to(now, tick=False)
        return now

    return set_to


async def sign(client, who: Staff, estate: Estate, what: str = "in", **body):
    return await client.post(f"{API}/estates/{estate.id}/attendance/sign-{what}", json=body, headers=who.headers)


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        w = await world(session)
        for method, path in [
            ("POST", f"/estates/{w.estate.id}/attendance/sign-in"),
            ("POST", f"/estates/{w.estate.id}/attendance/sign-out"),
            ("GET", "/attendance/mine"),
            ("GET", f"/estates/{w.estate.id}/attendance"),
            ("GET", f"/estates/{w.estate.id}/attendance/summary?month=2026-05"),
        ]:
            r = await client.request(method, API + path, json={} if method == "POST" else None)
            assert r.status_code == 401, path
        assert await count_rows(session, AttendanceRecord) == 0

    async def test_admin_does_not_sign_and_the_desk_reads_only_its_own(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 7, 40)
        admin = await make_staff(session, estates=[w.estate], roles=[Role.admin])
        assert (await sign(client, admin, w.estate)).status_code == 403
        assert (await client.get(f"{API}/estates/{w.estate.id}/attendance", headers=w.desk.headers)).status_code == 403
        r = await client.get(f"{API}/estates/{w.estate.id}/attendance/summary?month=2026-05", headers=w.desk.headers)
        assert r.status_code == 403
        assert await count_rows(session, AttendanceRecord) == 0

    async def test_other_estate_404(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 7, 40)
        assert (await sign(client, w.desk, w.other)).status_code == 404
        assert (await sign(client, w.desk, w.other, "out")).status_code == 404
        assert (await client.get(f"{API}/estates/{w.other.id}/attendance", headers=w.supervisor.headers)).status_code == 404
        r = await client.get(f"{API}/estates/{w.other.id}/attendance/summary?month=2026-05", headers=w.supervisor.headers)
        assert r.status_code == 404
        assert await count_rows(session, AttendanceRecord) == 0

    @pytest.mark.parametrize(
        "body", [{"shift": "night"}, {"signed_in_at": "2026-05-12T07:00:00+08:00"}, {"note": "x" * 201}, {"note": "a\x00b"}]
    )
    async def test_bad_input_422_nothing_written(self, client, session, clock, body):
        w = await world(session)
        clock(2026, 5, 12, 7, 40)
        r = await sign(client, w.desk, w.estate, **body)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert_422(r, next(iter(body)))
        assert await count_rows(session, AttendanceRecord) == 0

    @pytest.mark.parametrize("query", ["month=2026-13", "month=26-05", "day=2026-02-30", "sort=password", "limit=0"])
    async def test_bad_queries_422(self, client, session, query):
        w = await world(session)
        r = await client.get(f"{API}/estates/{w.estate.id}/attendance?{query}", headers=w.supervisor.headers)
        assert r.status_code == 422, r.text
        assert_422(r, query.split("=")[0])


class TestSignIn:
    async def test_on_time_morning_uses_the_server_clock(self, client, session, clock):
        w = await world(session)
        now = clock(2026, 5, 12, 7, 45)
        r = await sign(client, w.desk, w.estate)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["shift"], body["day"], body["status"], body["late"], body["late_minutes"]) == (
            "morning",
            "2026-05-12",
            "signed_in",
            False,
            0,
        )
        assert datetime.fromisoformat(body["signed_in_at"]) == now and body["full_name"] == "李娜"
        assert datetime.fromisoformat(body["due_by"]) == datetime(2026, 5, 12, 7, 50, tzinfo=SH)
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "attendance.sign_in"))).scalar_one()
        assert entry.entity_id == body["id"]

    async def test_after_750_is_late(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 8, 3)
        body = (await sign(client, w.desk, w.estate)).json()
        assert (body["shift"], body["late"], body["late_minutes"]) == ("morning", True, 13)

    async def test_afternoon_after_1350_is_late(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 13, 52)
        body = (await sign(client, w.desk, w.estate)).json()
        assert (body["shift"], body["late"], body["late_minutes"]) == ("afternoon", True, 2)

    async def test_estate_office_hours_move_the_deadline(self, client, session, clock):
        w = await world(session)
        estate = await session.get(Estate, w.estate.id)
        estate.morning_open = time(8, 30)
        await session.commit()
        clock(2026, 5, 12, 8, 15)
        body = (await sign(client, w.desk, w.estate)).json()
        assert body["late"] is False and datetime.fromisoformat(body["due_by"]).astimezone(SH).time() == time(8, 20)

    async def test_second_sign_in_409(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 7, 45)
        assert (await sign(client, w.desk, w.estate)).status_code == 201
        clock(2026, 5, 12, 7, 55)
        r = await sign(client, w.desk, w.estate, shift="morning")
        assert r.status_code == 409 and r.json()["type"] == "/problems/already-signed-in"
        # Another person, and the same person's afternoon, are separate.
        assert (await sign(client, w.tech, w.estate)).status_code == 201
        clock(2026, 5, 12, 13, 40)
        assert (await sign(client, w.desk, w.estate)).status_code == 201
        assert await count_rows(session, AttendanceRecord) == 3

    async def test_one_sign_in_per_shift_across_estates(self, client, session, clock):
        w = await world(session)
        both = await make_staff(session, estates=[w.estate, w.other])
        clock(2026, 5, 12, 7, 45)
        assert (await sign(client, both, w.estate)).status_code == 201
        assert_problem(await sign(client, both, w.other), 409, "already-signed-in")

    async def test_shift_over_and_too_early_422(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 12, 30)
        r = await sign(client, w.desk, w.estate, shift="morning")
        assert r.status_code == 422 and r.json()["type"] == "/problems/shift-over"
        clock(2026, 5, 12, 9, 0)
        r = await sign(client, w.desk, w.estate, shift="afternoon")
        assert r.status_code == 422 and r.json()["type"] == "/problems/too-early-to-sign-in"
        clock(2026, 5, 12, 19, 0)
        assert (await sign(client, w.desk, w.estate)).status_code == 422
        assert await count_rows(session, AttendanceRecord) == 0


class TestSignOut:
    async def test_after_noon_is_not_early(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 7, 45)
        await sign(client, w.desk, w.estate)
        now = clock(2026, 5, 12, 12, 5)
        r = await sign(client, w.desk, w.estate, "out")
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["left_early"], body["early_minutes"]) == ("signed_out", False, 0)
        assert datetime.fromisoformat(body["signed_out_at"]) == now

    async def test_before_close_is_early_leave(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 13, 45)
        await sign(client, w.desk, w.estate)
        clock(2026, 5, 12, 17, 30)
        body = (await sign(client, w.desk, w.estate, "out", note="接孩子")).json()
        assert (body["shift"], body["left_early"], body["early_minutes"], body["note"]) == ("afternoon", True, 30, "接孩子")

    async def test_not_signed_in_or_twice_409(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 12, 5)
        r = await sign(client, w.desk, w.estate, "out")
        assert r.status_code == 409 and r.json()["type"] == "/problems/not-signed-in"
        clock(2026, 5, 12, 13, 45)
        await sign(client, w.desk, w.estate)
        clock(2026, 5, 12, 18, 1)
        assert (await sign(client, w.desk, w.estate, "out")).status_code == 200
        assert (await sign(client, w.desk, w.estate, "out")).status_code == 409

    async def test_default_is_latest_open_shift(self, client, session, clock):
        w = await world(session)
        clock(2026, 5, 12, 7, 45)
        await sign(client, w.desk, w.estate)
        clock(2026, 5, 12, 13, 45)
        await sign(client, w.desk, w.estate)  # forgot to sign out of the morning
        clock(2026, 5, 12, 18, 2)
        assert (await sign(client, w.desk, w.estate, "out")).json()["shift"] == "afternoon"
        body = (await sign(client, w.desk, w.estate, "out", shift="morning")).json()
        assert (body["shift"], body["left_early"]) == ("morning", False)


async def _month(client, session, clock, w: World) -> None:
    """Two days: the desk late once and early once, the technician on time and never signed out once."""
    for day, (desk_in, desk_out) in {12: ((7, 45), (12, 1)), 13: ((8, 10), (11, 30))}.items():
        clock(2026, 5, day, *desk_in)
        await sign(client, w.desk, w.estate)
        clock(2026, 5, day, 7, 40)
        await sign(client, w.tech, w.estate)
        clock(2026, 5, day, *desk_out)
        await sign(client, w.desk, w.estate, "out")
    clock(2026, 5, 12, 12, 0)
    await sign(client, w.tech, w.estate, "out")


class TestReading:
    async def test_estate_book_for_a_day_with_flags(self, client, session, clock):
        w = await world(session)
        await _month(client, session, clock, w)
        r = await client.get(f"{API}/estates/{w.estate.id}/attendance?day=2026-05-13", headers=w.supervisor.headers)
        assert r.status_code == 200, r.text
        rows = {row["full_name"]: row for row in r.json()["items"]}
        assert (rows["李娜"]["late"], rows["李娜"]["late_minutes"], rows["李娜"]["left_early"]) == (True, 20, True)
        assert (rows["張師傅"]["late"], rows["張師傅"]["status"]) == (False, "signed_in")
        r = await client.get(f"{API}/estates/{w.estate.id}/attendance?month=2026-05&late=true", headers=w.supervisor.headers)
        assert r.json()["total"] == 1
        r = await client.get(f"{API}/estates/{w.estate.id}/attendance?month=2026-04", headers=w.supervisor.headers)
        assert r.json()["total"] == 0

    async def test_month_summary(self, client, session, clock):
        w = await world(session)
        await _month(client, session, clock, w)
        r = await client.get(f"{API}/estates/{w.estate.id}/attendance/summary?month=2026-05", headers=w.supervisor.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["workdays"] == 19  # May 2026: Labour Day 1-5 off, Saturday 9 worked
        assert body["calendar_source"] == "library"
        people = {p["full_name"]: p for p in body["people"]}
        assert {k: people["李娜"][k] for k in ("shifts", "late", "late_minutes", "left_early", "early_minutes", "not_signed_out")} == {
            "shifts": 2,
            "late": 1,
            "late_minutes": 20,
            "left_early": 1,
            "early_minutes": 30,
            "not_signed_out": 0,
        }
        assert (people["張師傅"]["shifts"], people["張師傅"]["late"], people["張師傅"]["not_signed_out"]) == (2, 0, 1)

    async def test_summary_of_a_year_nobody_entered_counts_the_statutory_days(self, client, session):
        w = await world(session)
        r = await client.get(f"{API}/estates/{w.estate.id}/attendance/summary?month=2098-05", headers=w.supervisor.headers)
        # May 2098: 21 weekdays less Labour Day's 1 May (a Thursday); 2 May is a Friday, also statutory.
        assert r.status_code == 200 and (r.json()["workdays"], r.json()["calendar_source"]) == (20, "provisional")

    async def test_mine_lists_only_my_own(self, client, session, clock):
        w = await world(session)
        await _month(client, session, clock, w)
        r = await client.get(f"{API}/attendance/mine", headers=w.desk.headers)
        assert r.status_code == 200
        items = r.json()["items"]
        assert len(items) == 2 and {i["user_id"] for i in items} == {str(w.desk.id)}
        assert items[0]["day"] == "2026-05-13"  # latest first
        r = await client.get(f"{API}/attendance/mine?date_from=2026-05-13", headers=w.tech.headers)
        assert r.json()["total"] == 1
