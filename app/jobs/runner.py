"""Running a job exactly once per (job, estate, period), however many processes try.

One run is one transaction: it takes a transaction-scoped advisory lock on the key,
claims the job_run row (the unique constraint backs the lock up), runs the job's
function inside a savepoint and records the outcome. A crash rolls all of it back, so
no run is ever left half-done or stuck "running"; the period simply counts as missed
and start-up's catch-up runs it. Another process holding the lock makes this one skip;
a succeeded row makes every later attempt skip unless forced; a failed one is retried.
"""
from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.domain.base import jsonable, utcnow
from app.domain.calendar.estate_time import zone
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.registry.model import Estate
from app.jobs.model import JobRun, RunStatus, RunTrigger
from app.jobs.registry import JOBS, CompanyWideJob, JobEstateNotFound, JobSpec, get_job

log = logging.getLogger("propdesk.jobs")

SKIPPED = "skipped"
# Far enough back for a yearly job; catch-up never looks further.
MAX_LOOKBACK = timedelta(days=800)


@dataclass(frozen=True, kw_only=True)
class JobRunResult:
    """What one (job, estate, period) attempt came to: succeeded, failed or skipped."""

    job: str
    estate_id: uuid.UUID | None
    period: str
    status: str
    run_id: uuid.UUID | None = None
    reason: str | None = None
    duration_ms: int | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None

    def __str__(self) -> str:
        where = self.estate_id or "company"
        detail = self.reason or self.error or (jsonable(self.summary) if self.summary else "")
        took = f" in {self.duration_ms} ms" if self.duration_ms is not None else ""
        return f"{self.job} [{where}] {self.period}: {self.status}{took} {detail}".rstrip()


@dataclass(frozen=True)
class Target:
    estate_id: uuid.UUID | None
    tz: tzinfo
    since: datetime | None  # nothing before this is "missed": the estate did not exist


def lock_key(job: str, estate_id: uuid.UUID | None, period: str) -> int:
    digest = hashlib.sha256(f"{job}|{estate_id or '-'}|{period}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def targets(
    sessionmaker: async_sessionmaker[AsyncSession], spec: JobSpec, *, estate_id: uuid.UUID | None = None,
    estate_ids: Collection[uuid.UUID] | None = None, default_time_zone: str | None = None,
) -> list[Target]:
    """Where a job runs: each chosen estate in its own time zone, or the company once."""
    if not spec.per_estate:
        if estate_id is not None:
            raise CompanyWideJob(f"{spec.name} runs for the whole company; leave the estate out", field="estate_id")
        return [Target(None, zone(default_time_zone), None)]
    stmt = select(Estate.id, Estate.time_zone, Estate.created_at).order_by(Estate.code, Estate.id)
    # Unless named, a closed estate is left out: it records nothing new.
    stmt = stmt.where(Estate.id == estate_id) if estate_id is not None else stmt.where(Estate.closed_at.is_(None))
    if estate_ids is not None:
        stmt = stmt.where(Estate.id.in_(list(estate_ids)))
    async with sessionmaker() as session:
        rows = (await session.execute(stmt)).all()
    if estate_id is not None and not rows:
        raise JobEstateNotFound("estate not found", estate_id=str(estate_id))
    return [Target(r.id, zone(r.time_zone, default_time_zone), r.created_at) for r in rows]


async def run_job(
    sessionmaker: async_sessionmaker[AsyncSession], name: str, *, estate_id: uuid.UUID | None = None,
    period: str | None = None, force: bool = False, estate_ids: Collection[uuid.UUID] | None = None,
    now: datetime | None = None, trigger: RunTrigger = RunTrigger.manual, default_time_zone: str | None = None,
) -> list[JobRunResult]:
    """Run `name` now for one estate or every estate (restricted to estate_ids if given).

    The period defaults to the one `now` falls in, in each estate's time zone.
    """
    spec = get_job(name)
    if period is not None:
        spec.check_period(period)
    now = now or utcnow()
    results = []
    for target in await targets(sessionmaker, spec, estate_id=estate_id, estate_ids=estate_ids,
                                default_time_zone=default_time_zone):
        chosen = period or spec.period_of(now.astimezone(target.tz))
        results.append(await run_once(sessionmaker, spec, estate_id=target.estate_id, period=chosen,
                                      force=force, trigger=trigger))
    return results


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession], spec: JobSpec, *, estate_id: uuid.UUID | None,
    period: str, force: bool = False, trigger: RunTrigger = RunTrigger.manual,
) -> JobRunResult:
    key: dict[str, Any] = dict(job=spec.name, estate_id=estate_id, period=period)
    try:
        async with session_scope(sessionmaker) as session:
            if not (await session.execute(select(func.pg_try_advisory_xact_lock(lock_key(spec.name, estate_id, period))))).scalar():
                return JobRunResult(**key, status=SKIPPED, reason="running in another process")
            run_id, reason = await _claim(session, spec, estate_id=estate_id, period=period, force=force, trigger=trigger)
            if run_id is None:
                return JobRunResult(**key, status=SKIPPED, reason=reason)
            return await _execute(session, spec, run_id=run_id, **key)
    except Exception as exc:
        log.exception("job %s for %s %s could not run", spec.name, estate_id, period)
        return JobRunResult(**key, status=RunStatus.failed.value, error=_describe(exc))


async def _claim(
    session: AsyncSession, spec: JobSpec, *, estate_id: uuid.UUID | None, period: str, force: bool, trigger: RunTrigger,
) -> tuple[uuid.UUID | None, str | None]:
    """The run's row, inserted or reopened; (None, why) when this period is not to run."""
    now = utcnow()
    inserted = await session.execute(
        insert(JobRun)
        .values(id=uuid.uuid4(), created_at=now, job=spec.name, estate_id=estate_id, period=period,
                status=RunStatus.running.value, trigger=trigger.value, attempts=1, started_at=now)
        .on_conflict_do_nothing()
        .returning(JobRun.id)
    )
    run_id = inserted.scalar()
    if run_id is not None:
        return run_id, None
    same = (JobRun.job == spec.name) & JobRun.estate_id.is_not_distinct_from(estate_id) & (JobRun.period == period)
    existing = (await session.execute(select(JobRun.id, JobRun.status).where(same))).one()
    if existing.status != RunStatus.failed.value and not force:
        return None, f"already {existing.status}"
    await session.execute(
        update(JobRun).where(JobRun.id == existing.id).values(
            status=RunStatus.running.value, trigger=trigger.value, attempts=JobRun.attempts + 1, started_at=now,
            finished_at=None, duration_ms=None, summary=None, error=None)
    )
    return existing.id, None


async def _execute(
    session: AsyncSession, spec: JobSpec, *, run_id: uuid.UUID, job: str, estate_id: uuid.UUID | None, period: str,
) -> JobRunResult:
    estate = await session.get(Estate, estate_id) if estate_id is not None else None
    started = time.monotonic()
    summary: dict[str, Any] | None = None
    error: str | None = None
    try:
        # A failing job undoes its own writes but not the record that it failed.
        async with session.begin_nested():
            summary = jsonable(await spec.func(session, estate=estate, period=period) or {})
            if spec.report and estate is not None:
                # Integrations fetch the report when told it is ready, in the run's own transaction.
                await outbox.emit(session, estate_id=estate.id, type=EventType.report_ready, entity="job_run",
                                  entity_id=run_id, data={"report": spec.report, "job": job, "period": period})
    except Exception as exc:
        log.exception("job %s for %s %s failed", job, estate_id, period)
        error = _describe(exc)
    duration_ms = int((time.monotonic() - started) * 1000)
    status = RunStatus.failed if error else RunStatus.succeeded
    await session.execute(
        update(JobRun).where(JobRun.id == run_id).values(
            status=status.value, finished_at=utcnow(), duration_ms=duration_ms, summary=summary, error=error)
    )
    log.info("job %s for %s %s %s in %d ms", job, estate_id or "company", period, status.value, duration_ms)
    return JobRunResult(job=job, estate_id=estate_id, period=period, status=status.value, run_id=run_id,
                        duration_ms=duration_ms, summary=summary, error=error)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def recent_fire_times(trigger: CronTrigger, *, now: datetime, count: int, not_before: datetime | None = None) -> list[datetime]:
    """The last `count` times the trigger fired at or before `now` (oldest first)."""
    floor = max(not_before or now - MAX_LOOKBACK, now - MAX_LOOKBACK)
    window = timedelta(hours=1)
    while True:
        start = max(now - window, floor)
        times: list[datetime] = []
        fire = trigger.get_next_fire_time(None, start)
        while fire is not None and fire <= now:
            times.append(fire)
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if len(times) >= count or start == floor:
            return times[-count:] if count else []
        window *= 4


async def catch_up(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime | None = None,
    names: Iterable[str] | None = None, default_time_zone: str | None = None,
) -> list[JobRunResult]:
    """Run the recent due periods (JobSpec.catch_up of them) that have no succeeded run."""
    now = now or utcnow()
    results: list[JobRunResult] = []
    for spec in [get_job(n) for n in names] if names is not None else list(JOBS.values()):
        for target in await targets(sessionmaker, spec, default_time_zone=default_time_zone):
            for period in await _missed(sessionmaker, spec, target, now=now):
                results.append(await run_once(sessionmaker, spec, estate_id=target.estate_id, period=period,
                                              trigger=RunTrigger.catch_up))
    return results


async def _missed(sessionmaker: async_sessionmaker[AsyncSession], spec: JobSpec, target: Target, *, now: datetime) -> list[str]:
    fires = recent_fire_times(spec.trigger(target.tz), now=now, count=spec.catch_up, not_before=target.since)
    periods = list(dict.fromkeys(spec.period_of(f.astimezone(target.tz)) for f in fires))
    if not periods:
        return []
    async with sessionmaker() as session:
        done = set((await session.execute(
            select(JobRun.period).where(
                JobRun.job == spec.name, JobRun.estate_id.is_not_distinct_from(target.estate_id),
                JobRun.period.in_(periods), JobRun.status == RunStatus.succeeded.value)
        )).scalars())
    return [p for p in periods if p not in done]
