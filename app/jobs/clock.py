"""The job clock: APScheduler cron triggers in each estate's time zone, calling run_job.

Every process may run a clock; the runner's advisory lock and job_run ledger make each
(job, estate, period) run once. The schedule lives in memory and is rebuilt from JOBS
and the estates at start-up and every ten minutes, so nothing about it needs migrating.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.calendar import estate_time
from app.domain.registry.model import Estate
from app.jobs import runner
from app.jobs.model import RunTrigger
from app.jobs.registry import JOBS

log = logging.getLogger("propdesk.jobs.clock")

REFRESH_ID = "clock:refresh-estates"
REFRESH_MINUTES = 10
# Catch-up runs at start and then every CATCH_UP_MINUTES: a tick can be lost while the process
# runs too (the database was away at 17:00, or a killed process's session still held the
# period's lock for its last second), and a monthly report must not wait for the next restart.
CATCH_UP_ID = "clock:catch-up"
CATCH_UP_MINUTES = 10
# Shutdown waits this long for running jobs, then cancels them (their transactions roll
# back and catch-up runs those periods at the next start).
STOP_GRACE_SECONDS = 5.0


class JobClock(AsyncIOScheduler):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, default_time_zone: str) -> None:
        super().__init__(
            timezone=default_time_zone,
            # A clock that was asleep fires once, not once per missed tick; catch-up handles the rest.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60},
        )
        self.sessionmaker = sessionmaker
        self.default_time_zone = default_time_zone
        self.zones: dict[str, str] = {}  # scheduled job id -> the time zone its trigger uses
        self.active: set[asyncio.Task[Any]] = set()
        self.catch_up_task: asyncio.Task[Any] | None = None


def job_id(name: str, estate_id: uuid.UUID | None) -> str:
    return f"job:{name}@{estate_id or 'company'}"


async def start(sessionmaker: async_sessionmaker[AsyncSession], *, settings: Any) -> JobClock:
    clock = JobClock(sessionmaker, default_time_zone=settings.default_time_zone)
    clock.start()
    try:
        await refresh(clock)
    except Exception:
        log.exception("could not read the estates; the clock retries in %d minutes", REFRESH_MINUTES)
    clock.add_job(refresh, IntervalTrigger(minutes=REFRESH_MINUTES), args=[clock], id=REFRESH_ID, name="refresh estates")
    clock.add_job(_catch_up, IntervalTrigger(minutes=CATCH_UP_MINUTES), args=[clock], id=CATCH_UP_ID, name="catch up")
    # In the background, so the API answers while missed periods are made up.
    clock.catch_up_task = asyncio.create_task(_catch_up(clock), name="job-clock-catch-up")
    log.info("job clock started with %d scheduled runs", len(clock.zones))
    return clock


async def refresh(clock: JobClock) -> None:
    """Schedule every job for every estate, in the estate's time zone; drop vanished ones."""
    async with clock.sessionmaker() as session:
        estates = (await session.execute(select(Estate.id, Estate.time_zone).where(Estate.closed_at.is_(None)))).all()
    wanted: dict[str, tuple[str, uuid.UUID | None, str]] = {}
    for spec in JOBS.values():
        if spec.per_estate:
            for e in estates:
                wanted[job_id(spec.name, e.id)] = (spec.name, e.id, e.time_zone or clock.default_time_zone)
        else:
            wanted[job_id(spec.name, None)] = (spec.name, None, clock.default_time_zone)
    for stale in set(clock.zones) - set(wanted):
        clock.remove_job(stale)
        del clock.zones[stale]
    for id_, (name, estate_id, tz_name) in wanted.items():
        if clock.zones.get(id_) == tz_name:
            continue
        tz = estate_time.zone(tz_name, clock.default_time_zone)
        clock.add_job(fire, JOBS[name].trigger(tz), args=[clock, name, estate_id], id=id_,
                      name=f"{name} ({estate_id or 'company'})", replace_existing=True)
        clock.zones[id_] = tz_name


async def fire(clock: JobClock, name: str, estate_id: uuid.UUID | None) -> None:
    """A cron tick: run the current period of one job for one estate (or the company)."""
    task = asyncio.current_task()
    if task is not None:
        clock.active.add(task)
    try:
        await runner.run_job(clock.sessionmaker, name, estate_id=estate_id, trigger=RunTrigger.clock,
                             default_time_zone=clock.default_time_zone)
    except Exception:
        log.exception("scheduled run of %s for %s failed", name, estate_id or "company")
    finally:
        if task is not None:
            clock.active.discard(task)


async def _catch_up(clock: JobClock) -> None:
    try:
        results = await runner.catch_up(clock.sessionmaker, default_time_zone=clock.default_time_zone)
    except Exception:
        log.exception("catch-up failed")
        return
    ran = [r for r in results if r.status != runner.SKIPPED]
    log.info("catch-up: %d missed period(s) run, %d skipped", len(ran), len(results) - len(ran))


async def stop(scheduler: JobClock | None) -> None:
    if scheduler is None:
        return
    scheduler.pause()
    running = {t for t in (*scheduler.active, scheduler.catch_up_task) if t is not None and not t.done()}
    if running:
        _, running = await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a loop callback; let it run
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
    log.info("job clock stopped")
