"""Endpoints of the jobs area: the office's clock, what it ran, and running a job now."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.deps import SessionDep, SettingsDep, page_of, require
from app.api.errors import problems
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.calendar.estate_time import InvalidPeriod
from app.domain.job_clock import service
from app.domain.job_clock.schemas import JobRead, JobRunOutcome, JobRunRead, JobRunRequest, PeriodText
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.jobs.registry import CompanyWideJob, JobEstateNotFound, UnknownJob

router = APIRouter(tags=["jobs"])

ReadJobs = Annotated[Actor, Depends(require(Perm.jobs_read))]
RunJobs = Annotated[Actor, Depends(require(Perm.jobs_run))]
JobNamePath = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$", description="e.g. purge_expired")]
JobPage = Annotated[PageRequest, Depends(page_of(service.JobSort))]
JobRunPage = Annotated[PageRequest, Depends(page_of(service.JobRunSort))]


def _sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    # Jobs run in sessions of their own, never in the request's.
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


@router.get("/jobs", response_model=Page[JobRead], responses=problems(UnknownSortKey))
async def list_jobs(actor: ReadJobs, session: SessionDep, page: JobPage, settings: SettingsDep) -> Page[JobRead]:
    """The jobs of the office's clock: schedule, the next run in each of the caller's estates, and recent runs."""
    items, total = await service.list_jobs(session, actor=actor, page=page, default_time_zone=settings.default_time_zone)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/jobs/runs", response_model=Page[JobRunRead], responses=problems(UnknownSortKey))
async def list_runs(
    actor: ReadJobs,
    session: SessionDep,
    page: JobRunPage,
    job: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z][a-z0-9_]*$")] = None,
    estate_id: uuid.UUID | None = None,
    status: Literal["running", "succeeded", "failed"] | None = None,
    period: Annotated[PeriodText | None, Query()] = None,
) -> Page[JobRunRead]:
    """Runs of the caller's estates (and company-wide runs, for admins) with outcome and duration; newest first."""
    rows, total = await service.list_runs(session, actor=actor, page=page, job=job, estate_id=estate_id, status=status, period=period)
    return Page(items=[JobRunRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/jobs/{name}", response_model=JobRead, responses=problems(UnknownJob))
async def get_job(name: JobNamePath, actor: ReadJobs, session: SessionDep, settings: SettingsDep) -> JobRead:
    """One job: its schedule, next runs and recent runs."""
    return await service.get_job_info(session, actor=actor, name=name, default_time_zone=settings.default_time_zone)


@router.post("/jobs/{name}/run", response_model=list[JobRunOutcome],
             responses=problems(UnknownJob, JobEstateNotFound, InvalidPeriod, CompanyWideJob))
async def run_job(
    name: JobNamePath,
    actor: RunJobs,
    session: SessionDep,
    settings: SettingsDep,
    sessionmaker: Annotated[async_sessionmaker[AsyncSession], Depends(_sessionmaker)],
    body: Annotated[JobRunRequest | None, Body()] = None,
) -> list[JobRunOutcome]:
    """Run a job now, for one estate or each of the caller's estates.

    A period that already succeeded is skipped unless `force`; a failed one runs again.
    Each run is recorded in the audit trail as `job.run` with who asked.
    """
    body = body or JobRunRequest()
    results = await service.run_now(
        session, sessionmaker, actor=actor, name=name, estate_id=body.estate_id, period=body.period,
        force=body.force, default_time_zone=settings.default_time_zone,
    )
    return [JobRunOutcome.model_validate(r) for r in results]
