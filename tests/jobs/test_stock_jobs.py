"""The month-end stocktake jobs: open the count and remind the desk once; flag a count not posted by month end."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.stock.model import Stocktake
from app.jobs.registry import JOBS
from app.jobs.runner import recent_fire_times, run_job
from tests.factories import make_staff
from tests.helpers.stock import API, count, new_item, open_count, store, this_month
from tests.registry_factories import count_rows


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_schedules_in_the_estates_time_zone():
    def fires(name: str, now: datetime) -> datetime:
        [last] = recent_fire_times(JOBS[name].trigger("Asia/Shanghai"), now=now, count=1)
        return last.astimezone(UTC)

    assert fires("stocktake_open", utc(2026, 12, 5)) == utc(2026, 11, 25, 1)  # 25 Nov 09:00 local
    assert fires("stocktake_overdue", utc(2026, 12, 5)) == utc(2026, 11, 30, 16, 5)  # 1 Dec 00:05 local
    assert JOBS["stocktake_open"].period_of(datetime(2026, 11, 25, 9)) == "2026-11"
    assert JOBS["stocktake_overdue"].period_of(datetime(2026, 12, 1, 0, 5)) == "2026-11"


async def _reminders(session) -> list[AuditEntry]:
    return list((await session.execute(select(AuditEntry).where(AuditEntry.action == "stocktake.reminder"))).scalars())


async def test_open_job_opens_once_and_reminds_the_desk_once(app, client, session):
    s = await store(session)
    await new_item(client, s, stock="4")
    sm, month = app.state.sessionmaker, this_month()
    [first] = await run_job(sm, "stocktake_open", estate_id=s.estate.id, period=month)
    assert first.status == "succeeded", first.error
    assert (first.summary["opened"], first.summary["reminded"], first.summary["month"]) == (True, True, month)
    row = (await session.execute(select(Stocktake))).scalar_one()
    assert (row.opened_by, row.status, row.month) == (None, "open", month) and row.reminded_at is not None
    [reminder] = await _reminders(session)
    assert reminder.after["alert"]["to"] == "desk" and str(s.desk.id) in [x["id"] for x in reminder.after["alert"]["staff"]]
    [again] = await run_job(sm, "stocktake_open", estate_id=s.estate.id, period=month)
    assert (again.status, again.reason) == ("skipped", "already succeeded")
    [forced] = await run_job(sm, "stocktake_open", estate_id=s.estate.id, period=month, force=True)
    assert (forced.status, forced.summary["opened"], forced.summary["reminded"]) == ("succeeded", False, False)
    assert await count_rows(session, Stocktake) == 1 and len(await _reminders(session)) == 1


async def test_open_job_uses_the_desks_count_and_skips_a_counted_month(app, client, session):
    s = await store(session)
    a = await new_item(client, s, stock="4")
    st = await open_count(client, s)
    sm, month = app.state.sessionmaker, this_month()
    [run] = await run_job(sm, "stocktake_open", estate_id=s.estate.id, period=month)
    assert (run.summary["opened"], run.summary["reminded"], run.summary["stocktake_id"]) == (False, True, st["id"])
    await count(client, s, st, [(a, "4")])
    assert (await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.boss.headers)).status_code == 200
    [run] = await run_job(sm, "stocktake_open", estate_id=s.estate.id, period=month, force=True)
    assert run.summary["opened"] is False and "already posted" in run.summary["reason"]
    assert await count_rows(session, Stocktake) == 1


async def test_open_job_without_stock_opens_nothing(app, session):
    s = await store(session)
    [run] = await run_job(app.state.sessionmaker, "stocktake_open", estate_id=s.estate.id, period=this_month())
    assert (run.status, run.summary["opened"], run.summary["reason"]) == ("succeeded", False, "no active stock items")
    assert await count_rows(session, Stocktake) == 0


async def test_overdue_job_flags_a_count_not_posted_once(app, client, session):
    s = await store(session)
    await new_item(client, s, stock="4")
    finance = await make_staff(session, estates=[s.estate], roles=[Role.finance])
    st = await open_count(client, s)
    sm, month = app.state.sessionmaker, this_month()
    [run] = await run_job(sm, "stocktake_overdue", estate_id=s.estate.id, period=month)
    assert run.status == "succeeded", run.error
    assert (run.summary["count"], run.summary["posted"], run.summary["flagged"][0]["stocktake_id"]) == (1, False, st["id"])
    [entry] = (await session.execute(select(AuditEntry).where(AuditEntry.action == "stocktake.overdue"))).scalars().all()
    assert {x["id"] for x in entry.after["alert"]["staff"]} == {str(s.boss.id), str(finance.id)}
    r = await client.get(f"{API}/stocktakes/{st['id']}", headers=s.desk.headers)
    assert r.json()["flagged_overdue_at"] is not None
    [forced] = await run_job(sm, "stocktake_overdue", estate_id=s.estate.id, period=month, force=True)
    assert forced.summary["count"] == 0
    # Another month's run leaves this month's count alone.
    [other] = await run_job(sm, "stocktake_overdue", estate_id=s.estate.id, period="2001-01")
    assert (other.summary["count"], other.summary["posted"]) == (0, False)
