"""The holiday duty roster (§5.1): who is on duty where on which day; holidays nobody covers are flagged."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.domain.attendance.model import DutyAssignment
from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.jobs.attendance import duty_roster_gaps
from app.jobs.registry import JOBS
from app.jobs.runner import run_job
from tests.factories import make_staff
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, two_estates

API = "/api/v1"


async def world(session):
    estate, other = await two_estates(session)
    supervisor = await make_staff(session, estates=[estate], roles=[Role.supervisor], full_name="趙主管")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="李娜")
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")
    return estate, other, supervisor, desk, tech


def roster_url(estate, query: str = "date_from=2026-09-28&date_to=2026-10-09") -> str:
    return f"{API}/estates/{estate.id}/duty-roster?{query}"


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        estate, _, _, desk, _ = await world(session)
        assert (await client.get(roster_url(estate))).status_code == 401
        r = await client.put(f"{API}/estates/{estate.id}/duty-roster/2026-10-01", json={"assignments": []})
        assert r.status_code == 401
        assert (await client.delete(f"{API}/estates/{estate.id}/duty-roster/2026-10-01/{desk.id}")).status_code == 401

    async def test_desk_reads_but_does_not_set(self, client, session):
        estate, _, _, desk, tech = await world(session)
        assert (await client.get(roster_url(estate), headers=tech.headers)).status_code == 200
        r = await client.put(f"{API}/estates/{estate.id}/duty-roster/2026-10-01", json={"assignments": [{"user_id": str(desk.id)}]},
                             headers=desk.headers)
        assert r.status_code == 403
        assert (await client.delete(f"{API}/estates/{estate.id}/duty-roster/2026-10-01/{desk.id}", headers=desk.headers)).status_code == 403
        assert await count_rows(session, DutyAssignment) == 0

    async def test_other_estate_404_and_its_staff_refused(self, client, session):
        estate, other, supervisor, _, _ = await world(session)
        theirs = await make_staff(session, estates=[other])
        assert (await client.get(roster_url(other), headers=supervisor.headers)).status_code == 404
        r = await client.put(f"{API}/estates/{other.id}/duty-roster/2026-10-01", json={"assignments": []}, headers=supervisor.headers)
        assert r.status_code == 404
        r = await client.put(f"{API}/estates/{estate.id}/duty-roster/2026-10-01", json={"assignments": [{"user_id": str(theirs.id)}]},
                             headers=supervisor.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/not-staff-of-estate"
        assert await count_rows(session, DutyAssignment) == 0

    @pytest.mark.parametrize("body", [{}, {"assignments": [{"user_id": "nope"}]}, {"assignments": [], "extra": 1},
                                      {"assignments": [{"user_id": "00000000-0000-0000-0000-000000000000", "note": "x" * 201}]}])
    async def test_bad_body_422(self, client, session, body):
        estate, _, supervisor, _, _ = await world(session)
        r = await client.put(f"{API}/estates/{estate.id}/duty-roster/2026-10-01", json=body, headers=supervisor.headers)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/validation-failed"
        assert await count_rows(session, DutyAssignment) == 0

    async def test_duplicate_person_422(self, client, session):
        estate, _, supervisor, desk, _ = await world(session)
        body = {"assignments": [{"user_id": str(desk.id)}, {"user_id": str(desk.id), "note": "again"}]}
        r = await client.put(f"{API}/estates/{estate.id}/duty-roster/2026-10-01", json=body, headers=supervisor.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/duplicate-on-duty"

    @pytest.mark.parametrize("query", ["date_from=2026-10-09&date_to=2026-10-01", "date_from=2026-01-01&date_to=2026-12-31",
                                       "date_from=x", "date_to=3000-01-01"])
    async def test_bad_range_422(self, client, session, query):
        estate, _, supervisor, _, _ = await world(session)
        # the last bound in the query is the one refused
        assert_422(await client.get(roster_url(estate, query), headers=supervisor.headers), query.split("&")[-1].split("=")[0])


class TestRoster:
    async def test_holidays_and_uncovered_days(self, client, session):
        estate, _, supervisor, desk, tech = await world(session)
        for day, people in {"2026-10-01": [desk], "2026-10-02": [desk, tech]}.items():
            r = await client.put(f"{API}/estates/{estate.id}/duty-roster/{day}",
                                 json={"assignments": [{"user_id": str(p.id), "note": "白班"} for p in people]}, headers=supervisor.headers)
            assert r.status_code == 200, r.text
        r = await client.get(roster_url(estate), headers=desk.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        days = {d["day"]: d for d in body["days"]}
        assert len(days) == 12
        assert (days["2026-10-01"]["day_type"], days["2026-10-01"]["holiday_name"], days["2026-10-01"]["uncovered"]) == (
            "holiday",
            "國慶節",
            False,
        )
        assert [p["full_name"] for p in days["2026-10-02"]["on_duty"]] == ["張師傅", "李娜"]
        assert days["2026-09-28"]["day_type"] == "workday" and days["2026-09-28"]["uncovered"] is False
        # Golden Week 1-7 October 2026: the 3rd to the 7th nobody covers.
        assert body["uncovered_days"] == [f"2026-10-0{d}" for d in range(3, 8)]
        assert body["provisional_days"] == [] and {d["calendar_source"] for d in body["days"]} == {"library"}

    async def test_adjusted_sunday_is_a_workday_not_uncovered(self, client, session):
        estate, _, supervisor, _, _ = await world(session)
        r = await client.get(roster_url(estate, "date_from=2026-01-01&date_to=2026-01-04"), headers=supervisor.headers)
        days = r.json()["days"]
        assert [d["day_type"] for d in days] == ["holiday", "holiday", "holiday", "adjusted_workday"]
        assert r.json()["uncovered_days"] == ["2026-01-01", "2026-01-02", "2026-01-03"]

    async def test_years_nobody_entered_are_provisional_statutory_days(self, client, session):
        estate, _, supervisor, _, _ = await world(session)
        r = await client.get(roster_url(estate, "date_from=2098-10-01&date_to=2098-10-04"), headers=supervisor.headers)
        assert r.status_code == 200
        assert r.json()["provisional_days"] == ["2098-10-01", "2098-10-02", "2098-10-03", "2098-10-04"]
        assert [(d["day_type"], d["holiday_name"]) for d in r.json()["days"]] == [("holiday", "國慶節")] * 3 + [("weekend", None)]
        assert r.json()["uncovered_days"] == ["2098-10-01", "2098-10-02", "2098-10-03"]

    async def test_put_replaces_and_delete_removes_audited(self, client, session):
        estate, _, supervisor, desk, tech = await world(session)
        url = f"{API}/estates/{estate.id}/duty-roster/2026-10-01"
        await client.put(url, json={"assignments": [{"user_id": str(desk.id)}, {"user_id": str(tech.id)}]}, headers=supervisor.headers)
        r = await client.put(url, json={"assignments": [{"user_id": str(tech.id), "note": "夜班"}]}, headers=supervisor.headers)
        assert [(p["full_name"], p["note"]) for p in r.json()["on_duty"]] == [("張師傅", "夜班")]
        assert (await client.delete(f"{url}/{desk.id}", headers=supervisor.headers)).status_code == 404
        assert (await client.delete(f"{url}/{tech.id}", headers=supervisor.headers)).status_code == 204
        assert await count_rows(session, DutyAssignment) == 0
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.entity == "duty_assignment"))).scalars().all()
        assert sorted(actions) == [
            "duty_roster.assign",
            "duty_roster.assign",
            "duty_roster.unassign",
            "duty_roster.unassign",
            "duty_roster.update",
        ]

    async def test_default_range_is_two_weeks_from_today(self, client, session):
        estate, _, supervisor, _, _ = await world(session)
        body = (await client.get(f"{API}/estates/{estate.id}/duty-roster", headers=supervisor.headers)).json()
        assert len(body["days"]) == 14


class TestGapsJob:
    async def test_flags_uncovered_holidays_of_the_coming_fortnight(self, session):
        estate, _, _, desk, _ = await world(session)
        session.add(DutyAssignment(estate_id=estate.id, day=date(2026, 10, 1), user_id=desk.id))
        await session.flush()
        summary = await duty_roster_gaps(session, estate=estate, period="2026-09-28")
        assert summary["uncovered_days"] == [f"2026-10-0{d}" for d in range(2, 8)]
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "duty_roster.uncovered"))).scalar_one()
        assert entry.estate_id == estate.id

    async def test_quiet_fortnight_records_nothing(self, session):
        estate, *_ = await world(session)
        assert (await duty_roster_gaps(session, estate=estate, period="2026-06-01"))["uncovered_days"] == []
        assert await count_rows(session, AuditEntry, AuditEntry.action == "duty_roster.uncovered") == 0

    async def test_runs_on_the_job_clock(self, app, session):
        estate, *_ = await world(session)
        assert JOBS["duty_roster_gaps"].cron == "0 9 * * *"
        [run] = await run_job(app.state.sessionmaker, "duty_roster_gaps", estate_id=estate.id, period="2098-12-28")
        # Years nobody entered are answered provisionally: the statutory days, no error.
        assert run.status == "succeeded" and run.summary["provisional_days"] == 14
        assert run.summary["uncovered_days"] == ["2099-01-01"]
