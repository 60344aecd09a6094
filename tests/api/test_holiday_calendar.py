"""The company's holiday calendar (§5.1): admins enter the State Council's schedule; the roster,
attendance and the morning job answer from it, else from the library, else provisionally."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.domain.audit.model import AuditEntry
from app.domain.auth.model import AuthToken
from app.domain.auth.roles import Role
from app.domain.calendar.model import HolidayCalendarDay
from app.jobs.attendance import duty_roster_gaps
from tests.factories import make_estate, make_staff
from tests.registry_factories import count_rows, two_estates

API = "/api/v1"
SH = ZoneInfo("Asia/Shanghai")
# A schedule shaped like the State Council's notice (made up for the tests, not the real 2027 one).
HOLIDAYS = {"元旦": ["2027-01-01", "2027-01-02", "2027-01-03"],
            "春节": [f"2027-02-{d:02}" for d in range(5, 14)],
            "国庆节": [f"2027-10-0{d}" for d in range(1, 8)]}
WORKDAYS = {"春节": ["2027-01-31", "2027-02-20"], "国庆节": ["2027-09-26", "2027-10-09"]}
SCHEDULE = {"days": [{"day": d, "kind": "holiday", "name": n} for n, ds in HOLIDAYS.items() for d in ds]
            + [{"day": d, "kind": "workday", "name": n} for n, ds in WORKDAYS.items() for d in ds]}
CSV = "date,kind,name\n" + "".join(f"{d['day']},{d['kind']},{d['name']}\n" for d in SCHEDULE["days"])


async def world(session):
    estate, other = await two_estates(session)
    admin = await make_staff(session, estates=[estate, other], roles=[Role.admin], full_name="管理員")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    supervisor = await make_staff(session, estates=[estate], roles=[Role.supervisor])
    return estate, admin, desk, supervisor


async def upload(client, admin, year: int = 2027, body: dict | None = None):
    return await client.put(f"{API}/holiday-calendar/{year}", json=body or SCHEDULE, headers=admin.headers)


def problem(r, code: str, status: int = 422) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == f"/problems/{code}", r.text
    return r.json()


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        await world(session)
        assert (await client.get(f"{API}/holiday-calendar/2027")).status_code == 401
        assert (await client.put(f"{API}/holiday-calendar/2027", json=SCHEDULE)).status_code == 401
        assert (await client.delete(f"{API}/holiday-calendar/days/2027-01-01")).status_code == 401

    @pytest.mark.parametrize("who", ["desk", "supervisor"])
    async def test_only_the_admin_keeps_it(self, client, session, who):
        _, admin, desk, supervisor = await world(session)
        caller = {"desk": desk, "supervisor": supervisor}[who]
        for r in [await client.get(f"{API}/holiday-calendar/2027", headers=caller.headers),
                  await upload(client, caller),
                  await client.post(f"{API}/holiday-calendar/2027/upload", files={"file": ("2027.csv", CSV.encode())},
                                    headers=caller.headers),
                  await client.post(f"{API}/holiday-calendar/days", json=SCHEDULE["days"][0], headers=caller.headers),
                  await client.patch(f"{API}/holiday-calendar/days/2026-10-01", json={"name": "x"}, headers=caller.headers),
                  await client.delete(f"{API}/holiday-calendar/days/2026-10-01", headers=caller.headers)]:
            assert r.status_code == 403, r.text
        assert await count_rows(session, HolidayCalendarDay) == 0
        assert (await client.get(f"{API}/holiday-calendar/2027", headers=admin.headers)).status_code == 200

    async def test_another_company_neither_sees_nor_touches_it(self, client, session):
        estate, admin, _, supervisor = await world(session)
        theirs = await make_estate(session)  # a company of its own
        their_admin = await make_staff(session, estates=[theirs], roles=[Role.admin])
        assert (await upload(client, admin)).status_code == 200
        mine = (await client.get(f"{API}/holiday-calendar/2027", headers=admin.headers)).json()
        seen = (await client.get(f"{API}/holiday-calendar/2027", headers=their_admin.headers)).json()
        assert (mine["source"], len(mine["days"])) == ("entered", 23)
        assert (seen["source"], seen["confirmed"]) == ("provisional", False)
        assert (await client.patch(f"{API}/holiday-calendar/days/2027-01-02", json={"name": "x"},
                                   headers=their_admin.headers)).status_code == 404
        assert (await client.delete(f"{API}/holiday-calendar/days/2027-01-02", headers=their_admin.headers)).status_code == 404
        # Their upload is theirs: our estate's roster still reads our schedule.
        other = {"days": [{"day": "2027-01-01", "kind": "holiday", "name": "元旦"}]}
        assert (await upload(client, their_admin, body=other)).status_code == 200
        r = await client.get(f"{API}/estates/{estate.id}/duty-roster?date_from=2027-01-01&date_to=2027-01-03",
                             headers=supervisor.headers)
        assert [d["day_type"] for d in r.json()["days"]] == ["holiday"] * 3
        assert await count_rows(session, HolidayCalendarDay, HolidayCalendarDay.company_id == estate.company_id) == 23


class TestBadInput:
    @pytest.mark.parametrize(("days", "field", "row"), [
        ([{"day": "2027-01-01", "kind": "holiday", "name": "元旦"}, {"day": "2028-01-01", "kind": "holiday", "name": "元旦"}],
         "days.1.day", 2),
        ([{"day": "2027-01-01", "kind": "holiday", "name": "元旦"}, {"day": "2027-01-01", "kind": "holiday", "name": "again"}],
         "days.1.day", 2),
        ([{"day": "2027-01-04", "kind": "workday", "name": "元旦"}], "days.0.kind", 1),  # a Monday
    ])
    async def test_rules_of_the_year_name_the_row_and_write_nothing(self, client, session, days, field, row):
        _, admin, _, _ = await world(session)
        body = problem(await upload(client, admin, body={"days": days}), "calendar-has-errors")
        assert (body["errors"][0]["field"], body["errors"][0]["row"]) == (field, row)
        assert await count_rows(session, HolidayCalendarDay) == 0

    @pytest.mark.parametrize(("days", "field"), [
        ([{"day": "2027-01-01", "kind": "festival", "name": "元旦"}], "days.0.kind"),
        ([{"day": "2027-01-01", "kind": "holiday", "name": ""}], "days.0.name"),
        ([{"day": "2027-02-30", "kind": "holiday", "name": "春节"}], "days.0.day"),
        ([], "days"),
    ])
    async def test_malformed_days_422_naming_the_field(self, client, session, days, field):
        _, admin, _, _ = await world(session)
        body = problem(await upload(client, admin, body={"days": days}), "validation-failed")
        assert field in [e["field"] for e in body["errors"]]
        assert await count_rows(session, HolidayCalendarDay) == 0

    async def test_a_bad_upload_leaves_the_entered_year_as_it_was(self, client, session):
        _, admin, _, _ = await world(session)
        assert (await upload(client, admin)).status_code == 200
        bad = CSV + "2027-13-01,holiday,春节\n2027-05-01,leave,劳动节\n"
        r = await client.post(f"{API}/holiday-calendar/2027/upload", files={"file": ("2027.csv", bad.encode())}, headers=admin.headers)
        body = problem(r, "calendar-has-errors")
        assert [(e["row"], e["field"]) for e in body["errors"]] == [(25, "date"), (26, "kind")]
        assert await count_rows(session, HolidayCalendarDay) == 23
        r = await client.post(f"{API}/holiday-calendar/2027/upload", files={"file": ("2027.csv", b"when,what\n2027-01-01,x\n")},
                              headers=admin.headers)
        assert problem(r, "calendar-unreadable")["missing"] == ["date", "kind", "name"]
        assert await count_rows(session, HolidayCalendarDay) == 23

    @pytest.mark.parametrize("path", ["/holiday-calendar/1999", "/holiday-calendar/x", "/holiday-calendar/days/2100-01-01"])
    async def test_bad_year_or_day_in_the_path_422(self, client, session, path):
        _, admin, _, _ = await world(session)
        method = client.delete if "days" in path else client.get
        problem(await method(f"{API}{path}", headers=admin.headers), "validation-failed")


class TestEditing:
    async def test_upload_as_csv_or_json_replaces_the_year(self, client, session):
        _, admin, _, _ = await world(session)
        gb = CSV.replace("date,kind,name", "日期,类型,名称").encode("gb18030")
        r = await client.post(f"{API}/holiday-calendar/2027/upload", files={"file": ("2027.csv", gb)}, headers=admin.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["source"], r.json()["confirmed"], len(r.json()["days"])) == ("entered", True, 23)
        smaller = json.dumps({"days": SCHEDULE["days"][:3]}).encode()
        r = await client.post(f"{API}/holiday-calendar/2027/upload", files={"file": ("2027.json", smaller)}, headers=admin.headers)
        assert [d["day"] for d in r.json()["days"]] == HOLIDAYS["元旦"]
        assert await count_rows(session, HolidayCalendarDay) == 3
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.entity == "holiday_calendar"))).scalars().all()
        assert actions == ["holiday_calendar.replace_year"] * 2

    async def test_single_days_amend_an_entered_year(self, client, session):
        _, admin, _, _ = await world(session)
        day = {"day": "2027-04-05", "kind": "holiday", "name": "清明节"}
        problem(await client.post(f"{API}/holiday-calendar/days", json=day, headers=admin.headers), "year-not-entered", 409)
        assert await count_rows(session, HolidayCalendarDay) == 0
        await upload(client, admin)
        r = await client.post(f"{API}/holiday-calendar/days", json=day, headers=admin.headers)
        assert r.status_code == 201 and r.json() == {**day, "source": "entered", "version": 2}  # the year's: upload, add
        problem(await client.post(f"{API}/holiday-calendar/days", json=day, headers=admin.headers), "holiday-day-exists", 409)
        r = await client.patch(f"{API}/holiday-calendar/days/2027-04-05", json={"name": "清明"}, headers=admin.headers)
        assert r.json()["name"] == "清明"
        problem(await client.patch(f"{API}/holiday-calendar/days/2027-01-01", json={"kind": "workday"}, headers=admin.headers),
                "calendar-has-errors")  # a Friday cannot be an adjusted working day
        assert (await client.delete(f"{API}/holiday-calendar/days/2027-04-05", headers=admin.headers)).status_code == 204
        problem(await client.delete(f"{API}/holiday-calendar/days/2027-04-05", headers=admin.headers), "holiday-day-not-found", 404)
        assert await count_rows(session, HolidayCalendarDay) == 23

    async def test_the_table_wins_over_the_library(self, client, session):
        estate, admin, _, supervisor = await world(session)
        listed = (await client.get(f"{API}/holiday-calendar/2026", headers=admin.headers)).json()
        assert (listed["source"], listed["confirmed"]) == ("library", True)
        assert {"day": "2026-10-10", "kind": "workday", "name": "國慶節", "source": "library", "version": 0} in listed["days"]
        # Say the company keeps Saturday 10 October off: the library's year is copied in, then amended.
        assert (await client.delete(f"{API}/holiday-calendar/days/2026-10-10", headers=admin.headers)).status_code == 204
        assert await count_rows(session, HolidayCalendarDay) == len(listed["days"]) - 1
        r = await client.get(f"{API}/estates/{estate.id}/duty-roster?date_from=2026-10-01&date_to=2026-10-10", headers=supervisor.headers)
        days = {d["day"]: d for d in r.json()["days"]}
        assert (days["2026-10-10"]["day_type"], days["2026-10-10"]["calendar_source"]) == ("weekend", "entered")
        assert (days["2026-10-01"]["day_type"], days["2026-10-01"]["holiday_name"]) == ("holiday", "國慶節")


class TestConcurrency:
    async def test_two_uploads_at_once_leave_one_whole_schedule(self, client, session):
        _, admin, _, _ = await world(session)
        short = {"days": SCHEDULE["days"][:3]}
        first, second = await asyncio.gather(upload(client, admin), upload(client, admin, body=short))
        assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
        days = sorted(str(d) for d in (await session.execute(select(HolidayCalendarDay.day))).scalars())
        assert days in (sorted(d["day"] for d in SCHEDULE["days"]), sorted(d["day"] for d in short["days"]))

    async def test_two_first_edits_of_a_library_year_copy_it_once(self, client, session):
        _, admin, _, _ = await world(session)
        library = len((await client.get(f"{API}/holiday-calendar/2026", headers=admin.headers)).json()["days"])
        days = [{"day": "2026-12-26", "kind": "workday", "name": "元旦"}, {"day": "2026-12-31", "kind": "holiday", "name": "元旦"}]
        results = await asyncio.gather(*(client.post(f"{API}/holiday-calendar/days", json=d, headers=admin.headers) for d in days))
        assert [r.status_code for r in results] == [201, 201], [r.text for r in results]
        assert await count_rows(session, HolidayCalendarDay) == library + 2


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


class TestDecemberToFebruary:
    """The roster, the morning job, attendance and the admin's queue across the year end, before and after the upload."""

    async def _roster(self, client, estate, supervisor):
        r = await client.get(f"{API}/estates/{estate.id}/duty-roster?date_from=2026-12-28&date_to=2027-02-14",
                             headers=supervisor.headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def _workdays(self, client, estate, supervisor) -> dict[str, tuple[int, str]]:
        out = {}
        for month in ("2026-12", "2027-01", "2027-02"):
            body = (await client.get(f"{API}/estates/{estate.id}/attendance/summary?month={month}", headers=supervisor.headers)).json()
            out[month] = (body["workdays"], body["calendar_source"])
        return out

    async def _queue_kinds(self, client, who, time_machine, now: datetime) -> list[dict]:
        time_machine.move_to(now, tick=False)
        r = await client.get(f"{API}/attention", headers=who.headers)
        assert r.status_code == 200, r.text
        return [i for i in r.json()["items"] if i["kind"] == "holiday_calendar_unconfirmed"]

    async def test_provisional_before_the_upload(self, client, session, time_machine):
        estate, admin, desk, supervisor = await world(session)
        body = await self._roster(client, estate, supervisor)
        days = {d["day"]: d for d in body["days"]}
        assert days["2026-12-31"]["calendar_source"] == "library"
        assert (days["2027-01-01"]["day_type"], days["2027-01-01"]["holiday_name"], days["2027-01-01"]["calendar_source"]) == \
            ("holiday", "元旦", "provisional")
        assert days["2027-01-02"]["day_type"] == "weekend"  # the notice may add it; nobody knows yet
        assert body["provisional_days"][0] == "2027-01-01" and len(body["provisional_days"]) == 45
        assert body["uncovered_days"] == ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"]
        assert await self._workdays(client, estate, supervisor) == {
            "2026-12": (23, "library"), "2027-01": (20, "provisional"), "2027-02": (18, "provisional")}
        summary = await duty_roster_gaps(session, estate=estate, period="2026-12-28")
        assert (summary["uncovered_days"], summary["provisional_days"]) == (["2027-01-01"], 10)
        [item] = await self._queue_kinds(client, admin, time_machine, at(2026, 12, 3, 9))
        assert "2027" in item["title"] and item["link"] == "/api/v1/holiday-calendar/2027"
        assert item["deadline"].startswith("2026-12-31T16:00:00") and item["urgency"] == "later"
        assert await self._queue_kinds(client, desk, time_machine, at(2026, 12, 3, 9)) == []

    async def test_the_attention_item_runs_from_1_november_until_entered(self, client, session, time_machine):
        _, admin, _, _ = await world(session)
        # The clock travels to March 2027, past the sign-in's hour: the token must still be good then.
        await session.execute(update(AuthToken).where(AuthToken.user_id == admin.id).values(expires_at=at(2100, 1, 1, 0)))
        await session.commit()
        assert await self._queue_kinds(client, admin, time_machine, at(2026, 10, 31, 23, 59)) == []
        assert len(await self._queue_kinds(client, admin, time_machine, at(2026, 11, 1, 0, 1))) == 1
        [late] = await self._queue_kinds(client, admin, time_machine, at(2027, 3, 1, 9))
        assert late["urgency"] == "overdue"
        await upload(client, admin)
        assert await self._queue_kinds(client, admin, time_machine, at(2027, 3, 1, 9)) == []
        assert await self._queue_kinds(client, admin, time_machine, at(2026, 12, 3, 9)) == []

    async def test_entered_days_after_the_upload(self, client, session, time_machine):
        estate, admin, _, supervisor = await world(session)
        r = await client.post(f"{API}/holiday-calendar/2027/upload", files={"file": ("2027.csv", CSV.encode())}, headers=admin.headers)
        assert r.status_code == 200, r.text
        body = await self._roster(client, estate, supervisor)
        days = {d["day"]: d for d in body["days"]}
        assert body["provisional_days"] == []
        assert [(days[d]["day_type"], days[d]["calendar_source"]) for d in ("2027-01-02", "2027-01-31")] == \
            [("holiday", "entered"), ("adjusted_workday", "entered")]
        assert body["uncovered_days"] == HOLIDAYS["元旦"] + HOLIDAYS["春节"]
        assert await self._workdays(client, estate, supervisor) == {
            "2026-12": (23, "library"), "2027-01": (21, "entered"), "2027-02": (15, "entered")}
        summary = await duty_roster_gaps(session, estate=estate, period="2026-12-28")
        assert (summary["uncovered_days"], summary["provisional_days"]) == (HOLIDAYS["元旦"], 0)
        assert await self._queue_kinds(client, admin, time_machine, at(2026, 12, 3, 9)) == []


class TestWallBoard:
    async def test_the_board_counts_the_unconfirmed_year_until_entered(self, client, session, time_machine):
        estate, admin, desk, _ = await world(session)
        time_machine.move_to(at(2026, 12, 3, 9), tick=False)
        board = (await client.get(f"{API}/estates/{estate.id}/attention", headers=desk.headers)).json()
        assert board["counts"]["holiday_calendar_unconfirmed"] == 1
        await upload(client, admin)
        board = (await client.get(f"{API}/estates/{estate.id}/attention", headers=desk.headers)).json()
        assert board["counts"]["holiday_calendar_unconfirmed"] == 0
