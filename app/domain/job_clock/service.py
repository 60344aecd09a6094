"""The job clock as the API sees it: what runs when, what ran, and running one now.

Runs themselves go through app.jobs.runner with their own sessions; the request's
session only reads the ledger and records who asked.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.job_clock.schemas import JobRead, JobRunRead, NextRun
from app.domain.pagination import PageRequest, check_sort, paginate
from app.domain.registry.model import Estate
from app.jobs import runner
from app.jobs.model import JobRun, RunTrigger
from app.jobs.registry import JOBS, JobEstateNotFound, JobSpec, get_job

RECENT_RUNS = 5


def _visible(actor: Actor) -> ColumnElement[bool]:
    visible: ColumnElement[bool] = JobRun.estate_id.in_(list(actor.estate_ids))
    if actor.has_role(Role.admin):
        # Company-wide runs (purges) belong to no estate; admins answer for them, as in the audit trail.
        visible = visible | JobRun.estate_id.is_(None)
    return visible


class JobSort(StrEnum):
    """The key the list of jobs sorts by."""

    name = "name"


async def list_jobs(
    session: AsyncSession, *, actor: Actor, page: PageRequest, default_time_zone: str, now: datetime | None = None,
) -> tuple[list[JobRead], int]:
    check_sort(JobSort, page.sort)
    specs = sorted(JOBS.values(), key=lambda s: s.name, reverse=page.sort == "-name")
    chosen = specs[page.offset: page.offset + page.limit]
    return await _describe(session, actor=actor, specs=chosen, default_time_zone=default_time_zone, now=now), len(specs)


async def get_job_info(session: AsyncSession, *, actor: Actor, name: str, default_time_zone: str) -> JobRead:
    spec = get_job(name)
    return (await _describe(session, actor=actor, specs=[spec], default_time_zone=default_time_zone))[0]


async def _describe(
    session: AsyncSession, *, actor: Actor, specs: Sequence[JobSpec], default_time_zone: str, now: datetime | None = None,
) -> list[JobRead]:
    now = now or utcnow()
    estates = (await session.execute(
        select(Estate.id, Estate.time_zone).where(Estate.id.in_(list(actor.estate_ids))).order_by(Estate.code)
    )).all()
    recent = await _recent_runs(session, actor=actor, names=[s.name for s in specs])
    out = []
    for spec in specs:
        places = [(e.id, e.time_zone) for e in estates] if spec.per_estate else [(None, default_time_zone)]
        out.append(JobRead(
            name=spec.name, description=spec.description, cron=spec.cron, per_estate=spec.per_estate,
            period_kind=spec.period_kind, next_runs=[_next_run(spec, estate_id, tz, now) for estate_id, tz in places],
            recent_runs=recent.get(spec.name, []),
        ))
    return out


def _next_run(spec: JobSpec, estate_id: uuid.UUID | None, tz_name: str, now: datetime) -> NextRun:
    tz = estate_time.zone(tz_name)
    at = spec.trigger(tz).get_next_fire_time(None, now)
    return NextRun(estate_id=estate_id, time_zone=str(tz), at=at, period=spec.period_of(at) if at else None)


async def _recent_runs(session: AsyncSession, *, actor: Actor, names: list[str]) -> dict[str, list[JobRunRead]]:
    ranked = (
        select(JobRun, func.row_number().over(partition_by=JobRun.job, order_by=JobRun.started_at.desc()).label("rn"))
        .where(JobRun.job.in_(names), _visible(actor))
        .subquery()
    )
    rows = (await session.execute(
        select(ranked).where(ranked.c.rn <= RECENT_RUNS).order_by(ranked.c.job, ranked.c.started_at.desc())
    )).mappings().all()
    out: dict[str, list[JobRunRead]] = {}
    for row in rows:
        out.setdefault(row["job"], []).append(JobRunRead.model_validate(dict(row)))
    return out


class JobRunSort(StrEnum):
    """The keys job runs sort by."""

    started_at = "started_at"
    job = "job"
    period = "period"
    status = "status"
    duration_ms = "duration_ms"


async def list_runs(
    session: AsyncSession, *, actor: Actor, page: PageRequest, job: str | None = None,
    estate_id: uuid.UUID | None = None, status: str | None = None, period: str | None = None,
) -> tuple[list[JobRun], int]:
    stmt = select(JobRun).where(_visible(actor))
    for column, value in ((JobRun.job, job), (JobRun.estate_id, estate_id), (JobRun.status, status), (JobRun.period, period)):
        if value is not None:
            stmt = stmt.where(column == value)
    sortable = {JobRunSort.started_at: JobRun.started_at, JobRunSort.job: JobRun.job, JobRunSort.period: JobRun.period,
                JobRunSort.status: JobRun.status, JobRunSort.duration_ms: JobRun.duration_ms}
    return await paginate(session, stmt, page, sortable=sortable, default=[JobRun.started_at.desc(), JobRun.id])


async def run_now(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], *, actor: Actor, name: str,
    estate_id: uuid.UUID | None = None, period: str | None = None, force: bool = False, default_time_zone: str,
) -> list[runner.JobRunResult]:
    """Run a job now in the caller's estates (or one of them), and record who asked."""
    spec = get_job(name)
    if estate_id is not None and not actor.sees(estate_id):
        raise JobEstateNotFound("estate not found", estate_id=str(estate_id))
    scope = actor.estate_ids if spec.per_estate and estate_id is None and not actor.is_system else None
    results = await runner.run_job(
        sessionmaker, name, estate_id=estate_id, period=period, force=force, estate_ids=scope,
        trigger=RunTrigger.manual, default_time_zone=default_time_zone,
    )
    for r in results:
        await audit.record(
            session, actor=actor, action="job.run", entity="job", entity_id=name, estate_id=r.estate_id,
            after={"period": r.period, "force": force, "status": r.status, "run_id": r.run_id, "reason": r.reason},
        )
    await session.flush()
    return results
