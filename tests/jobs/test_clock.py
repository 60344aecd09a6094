"""The scheduler: one cron job per job and estate in the estate's zone, catch-up at start, clean stop."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.jobs import clock, runner
from app.jobs.model import JobRun, RunTrigger
from app.jobs.registry import DAILY, HOURLY, JOBS, MONTHLY, WEEKLY, JobSpec, cron_trigger
from tests.factories import make_estate
from tests.helpers.jobs import TICK

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_periods_are_named_in_the_local_time_zone():
    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    assert DAILY(late.astimezone(SHANGHAI)) == "2026-11-29"
    assert DAILY(late.astimezone(ZoneInfo("America/New_York"))) == "2026-11-28"
    assert WEEKLY(late.astimezone(SHANGHAI)) == "2026-W48"  # Sunday still ends ISO week 48
    assert MONTHLY(datetime(2026, 11, 30, 16, 0, tzinfo=UTC).astimezone(SHANGHAI)) == "2026-12"
    assert HOURLY(late.astimezone(SHANGHAI)) == "2026-11-29T07"


def test_period_bounds_are_local():
    start, end = MONTHLY.bounds("2026-12", SHANGHAI)
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=SHANGHAI), datetime(2027, 1, 1, tzinfo=SHANGHAI))
    assert WEEKLY.bounds("2026-W48", SHANGHAI)[0] == datetime(2026, 11, 23, tzinfo=SHANGHAI)


def test_crontab_weekdays_mean_what_crontab_means():
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=SHANGHAI)
    monday = cron_trigger("0 9 * * 1", SHANGHAI).get_next_fire_time(None, saturday)
    assert monday == datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    sunday = cron_trigger("0 9 * * 0", SHANGHAI).get_next_fire_time(None, saturday)
    assert sunday.weekday() == 6
    month_end = cron_trigger("0 18 last * *", SHANGHAI).get_next_fire_time(None, saturday)
    assert month_end == datetime(2026, 11, 30, 18, 0, tzinfo=SHANGHAI)


def test_a_mistyped_cron_fails_at_declaration():
    try:
        JobSpec(name="typo", cron="0 17 * *", func=TICK.func)
    except ValueError:
        return
    raise AssertionError("a four-field cron was accepted")


async def test_clock_schedules_each_estate_in_its_zone(app, session, settings, monkeypatch):
    monkeypatch.setitem(JOBS, TICK.name, TICK)
    shanghai = await make_estate(session, time_zone="Asia/Shanghai")
    york = await make_estate(session, time_zone="America/New_York")
    scheduler = await clock.start(app.state.sessionmaker, settings=settings)
    try:
        await asyncio.wait_for(scheduler.catch_up_task, 30)
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert str(jobs[clock.job_id(TICK.name, shanghai.id)].trigger.timezone) == "Asia/Shanghai"
        assert str(jobs[clock.job_id(TICK.name, york.id)].trigger.timezone) == "America/New_York"
        assert clock.job_id("purge_expired", None) in jobs and clock.REFRESH_ID in jobs
        # A new estate is picked up by the refresh.
        later = await make_estate(session, time_zone="Europe/London")
        await clock.refresh(scheduler)
        assert str(scheduler.get_job(clock.job_id(TICK.name, later.id)).trigger.timezone) == "Europe/London"
        # Start-up made up the purge's current hour.
        async with app.state.sessionmaker() as s:
            purge_runs = list((await s.execute(select(JobRun).where(JobRun.job == "purge_expired"))).scalars())
        assert [r.trigger for r in purge_runs] == [RunTrigger.catch_up]
    finally:
        await clock.stop(scheduler)
    assert not scheduler.running


async def test_a_cron_tick_runs_the_job_through_the_ledger(app, session, settings, monkeypatch):
    monkeypatch.setitem(JOBS, TICK.name, TICK)
    estate = await make_estate(session)
    scheduler = await clock.start(app.state.sessionmaker, settings=settings)
    try:
        await asyncio.wait_for(scheduler.catch_up_task, 30)
        scheduler.get_job(clock.job_id(TICK.name, estate.id)).modify(next_run_time=datetime.now(UTC))
        for _ in range(100):
            async with app.state.sessionmaker() as s:
                runs = list((await s.execute(select(JobRun).where(JobRun.job == TICK.name, JobRun.trigger == "clock"))).scalars())
            if runs:
                break
            await asyncio.sleep(0.1)
        assert [(r.estate_id, r.status, r.period) for r in runs] == [
            (estate.id, "succeeded", DAILY(datetime.now(SHANGHAI)))]
    finally:
        await clock.stop(scheduler)


async def test_a_period_skipped_at_start_is_made_up_by_the_periodic_catch_up(app, session, settings, monkeypatch):
    """A killed process's session can hold a period's lock for a moment after the restart: the
    start-up catch-up then skips it, and the next periodic catch-up must run it."""
    monkeypatch.setitem(JOBS, TICK.name, TICK)
    estate = await make_estate(session)
    estate.created_at = datetime.now(UTC) - timedelta(days=3)  # so that it has missed periods
    await session.commit()
    due = list(await runner._missed(app.state.sessionmaker, TICK, (await runner.targets(app.state.sessionmaker, TICK))[0],
                                           now=datetime.now(UTC)))
    assert due
    async with app.state.engine.connect() as holder:  # the "dead" session holding every due period's lock
        await holder.begin()
        for period in due:
            await holder.execute(select(func.pg_advisory_xact_lock(runner.lock_key(TICK.name, estate.id, period))))
        scheduler = await clock.start(app.state.sessionmaker, settings=settings)
        await asyncio.wait_for(scheduler.catch_up_task, 30)
        await holder.rollback()
    try:
        assert not await _runs(app, TICK.name)
        scheduler.get_job(clock.CATCH_UP_ID).modify(next_run_time=datetime.now(UTC))
        for _ in range(100):
            if len(runs := await _runs(app, TICK.name)) == len(due):
                break
            await asyncio.sleep(0.1)
        assert sorted((r.period, r.status, r.trigger) for r in runs) == [(p, "succeeded", RunTrigger.catch_up) for p in sorted(due)]
    finally:
        await clock.stop(scheduler)


async def _runs(app, name: str) -> list[JobRun]:
    async with app.state.sessionmaker() as s:
        return list((await s.execute(select(JobRun).where(JobRun.job == name))).scalars())


async def test_stop_does_not_wait_long_for_a_running_job(app, session, settings, monkeypatch):
    async def slow(s, *, estate, period):
        await asyncio.sleep(60)
        return {}

    monkeypatch.setitem(JOBS, "test_slow", JobSpec(name="test_slow", cron="0 3 * * *", func=slow))
    estate = await make_estate(session)
    monkeypatch.setattr(clock, "STOP_GRACE_SECONDS", 0.5)
    scheduler = await clock.start(app.state.sessionmaker, settings=settings)
    await asyncio.wait_for(scheduler.catch_up_task, 30)
    scheduler.get_job(clock.job_id("test_slow", estate.id)).modify(next_run_time=datetime.now(UTC))
    for _ in range(50):
        if scheduler.active:
            break
        await asyncio.sleep(0.1)
    assert scheduler.active
    started = asyncio.get_running_loop().time()
    await clock.stop(scheduler)
    assert asyncio.get_running_loop().time() - started < 3
    # The cancelled run rolled back: the period is still due for the next start's catch-up.
    async with app.state.sessionmaker() as s:
        assert list((await s.execute(select(JobRun).where(JobRun.job == "test_slow"))).scalars()) == []
