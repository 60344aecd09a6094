"""The callback rate (§6.4) on a hand-checked data set, the estate's time zone at the week's edges."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback, CallbackRateRecord, CallbackStatus
from tests.factories import Staff, make_staff
from tests.helpers.callbacks import API, Desk, completed, desk_world, fresh
from tests.helpers.problems import assert_422

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = "2026-W46"  # Monday 9 to Sunday 15 November 2026, Shanghai time


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def set_callback(session, cb: Callback, status: CallbackStatus, done_at: datetime) -> None:
    row = await fresh(session, Callback, cb.id)
    row.status, row.done_at = status, done_at
    await session.commit()


async def hand_checked_week(session, w: Desk, tech_b: Staff) -> None:
    """Ten completions in W46: six called back in time, one late, three not at all.

    Technician A (w.tech): 4 in time, 1 late, 1 never -> 4/6. Technician B: 2 in time, 2 never -> 2/4.
    Escalated and resolved callbacks count as reached: the owner was rung.
    Also, outside the week: one completed Monday 16 Nov 00:30 Shanghai (still Sunday in UTC),
    and one in another estate.
    """
    plan = [  # (completed, technician, outcome: status or None, in time?)
        (local(2026, 11, 9, 7, 0), w.tech, CallbackStatus.done, True),  # Sunday 23:00 UTC: W45 in UTC, W46 here
        (local(2026, 11, 10, 10, 0), w.tech, CallbackStatus.done, True),
        (local(2026, 11, 11, 15, 0), w.tech, CallbackStatus.escalated, True),
        (local(2026, 11, 12, 9, 0), w.tech, CallbackStatus.resolved, True),
        (local(2026, 11, 13, 9, 0), w.tech, CallbackStatus.done, False),
        (local(2026, 11, 14, 9, 0), w.tech, None, None),
        (local(2026, 11, 9, 0, 0), tech_b, CallbackStatus.done, True),  # the week's first instant
        (local(2026, 11, 15, 23, 30), tech_b, CallbackStatus.done, True),  # Sunday 23:30 here, 15:30 UTC
        (local(2026, 11, 12, 11, 0), tech_b, None, None),
        (local(2026, 11, 14, 16, 0), tech_b, None, None),
    ]
    for at, tech, status, in_time in plan:
        _, cb = await completed(session, w, completed_at=at.astimezone(UTC), tech=tech)
        if status is not None:
            await set_callback(session, cb, status, cb.due_at - timedelta(hours=1) if in_time else cb.due_at + timedelta(seconds=1))
    _, outside = await completed(session, w, completed_at=local(2026, 11, 16, 0, 30).astimezone(UTC))
    await set_callback(session, outside, CallbackStatus.done, outside.completed_at + timedelta(days=1))
    theirs = await make_staff(session, estates=[w.other], roles=[Role.technician])
    await completed(session, w, estate=w.other, unit=None, tech=theirs, completed_at=local(2026, 11, 10, 9, 0))


async def rate(client, w: Desk, headers: dict, **params: str) -> dict:
    r = await client.get(f"{API}/estates/{w.estate.id}/callback-rate", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


class TestCallbackRate:
    async def test_hand_checked_week(self, client, session):
        w = await desk_world(session)
        tech_b = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        await hand_checked_week(session, w, tech_b)
        supervisor = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
        got = await rate(client, w, supervisor.headers, period="week", date="2026-11-12")
        assert (got["label"], got["start"], got["end"]) == (WEEK, "2026-11-09", "2026-11-15")
        assert (got["completed"], got["done_within_7_days"], got["done_late"], got["pending"]) == (10, 6, 1, 0)
        assert (got["rate"], got["target"], got["meets_target"]) == ("0.6000", "0.60", True)
        assert got["needed_to_reach_target"] is None  # not the current week

    async def test_per_technician(self, client, session):
        w = await desk_world(session)
        tech_b = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        await hand_checked_week(session, w, tech_b)
        a = await rate(client, w, w.desk.headers, date="2026-11-15", technician_id=str(w.tech.id))
        b = await rate(client, w, w.desk.headers, date="2026-11-15", technician_id=str(tech_b.id))
        assert (a["completed"], a["done_within_7_days"], a["rate"], a["meets_target"]) == (6, 4, "0.6667", True)
        assert (b["completed"], b["done_within_7_days"], b["rate"], b["meets_target"]) == (4, 2, "0.5000", False)

    async def test_month_and_week_edges_in_the_estates_time_zone(self, client, session):
        w = await desk_world(session)
        tech_b = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        await hand_checked_week(session, w, tech_b)
        # Monday 16 Nov 00:30 here (still Sunday, 16:30, in UTC) belongs to W47.
        nxt = await rate(client, w, w.desk.headers, date="2026-11-16")
        assert (nxt["label"], nxt["completed"], nxt["done_within_7_days"]) == ("2026-W47", 1, 1)
        prev = await rate(client, w, w.desk.headers, date="2026-11-08")
        assert (prev["label"], prev["completed"], prev["rate"], prev["meets_target"]) == ("2026-W45", 0, None, None)
        month = await rate(client, w, w.desk.headers, period="month", date="2026-11-30")
        assert (month["label"], month["start"], month["end"], month["completed"], month["done_within_7_days"]) == (
            "2026-11", "2026-11-01", "2026-11-30", 11, 7)
        assert month["rate"] == "0.6364" and month["needed_to_reach_target"] is None

    async def test_current_week_needed_to_reach_target(self, client, session):
        w = await desk_world(session)
        now = utcnow()
        today = now.astimezone(SHANGHAI).date()
        monday = datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time(), tzinfo=SHANGHAI)
        cbs = [(await completed(session, w, completed_at=max(monday.astimezone(UTC), now - timedelta(minutes=5 + i))))[1]
               for i in range(7)]
        await set_callback(session, cbs[0], CallbackStatus.done, now)
        got = await rate(client, w, w.desk.headers)
        assert (got["completed"], got["done_within_7_days"], got["pending"]) == (7, 1, 6)
        assert got["needed_to_reach_target"] == 4  # ceil(0.6 * 7) = 5, one done
        assert (got["rate"], got["meets_target"]) == ("0.1429", False)

    async def test_bad_input_422(self, client, session):
        w = await desk_world(session)
        named = iter(["period", "date", "date", "technician_id"])
        for params in [{"period": "year"}, {"date": "2026-13-01"}, {"date": "1999-12-31"}, {"technician_id": "x"}]:
            r = await client.get(f"{API}/estates/{w.estate.id}/callback-rate", params=params, headers=w.desk.headers)
            assert r.status_code == 422, params
            assert_422(r, next(named))


class TestRatePermissions:
    async def test_401_403_404(self, client, session):
        w = await desk_world(session)
        for path in ("callback-rate", "callback-rate/weeks"):
            assert (await client.get(f"{API}/estates/{w.estate.id}/{path}")).status_code == 401
            assert (await client.get(f"{API}/estates/{w.estate.id}/{path}", headers=w.tech.headers)).status_code == 403
            assert (await client.get(f"{API}/estates/{w.other.id}/{path}", headers=w.desk.headers)).status_code == 404
            finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
            assert (await client.get(f"{API}/estates/{w.estate.id}/{path}", headers=finance.headers)).status_code == 200


class TestRecordedWeeks:
    async def test_lists_recorded_weeks_latest_first(self, client, session):
        w = await desk_world(session)
        session.add_all([
            CallbackRateRecord(estate_id=w.estate.id, week="2026-W46", completed=10, done_within_7_days=6, rate=Decimal("0.6")),
            CallbackRateRecord(estate_id=w.estate.id, week="2026-W47", completed=4, done_within_7_days=1, rate=Decimal("0.25"),
                               below_target=True),
            CallbackRateRecord(estate_id=w.other.id, week="2026-W47", completed=1, done_within_7_days=1, rate=Decimal("1")),
        ])
        await session.commit()
        r = await client.get(f"{API}/estates/{w.estate.id}/callback-rate/weeks", headers=w.desk.headers)
        assert r.status_code == 200, r.text
        assert [(x["week"], x["rate"], x["below_target"]) for x in r.json()["items"]] == [
            ("2026-W47", "0.2500", True), ("2026-W46", "0.6000", False)]
        r = await client.get(f"{API}/estates/{w.estate.id}/callback-rate/weeks", params={"below_target": "false"}, headers=w.desk.headers)
        assert [x["week"] for x in r.json()["items"]] == ["2026-W46"]
