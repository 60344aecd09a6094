"""Exactly once per (job, estate, period): racing runners, retries, catch-up, time zones."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.db import make_engine, make_sessionmaker
from app.domain.audit import service as audit
from app.domain.audit.model import AuditEntry
from app.domain.auth.principal import system_actor
from app.jobs.model import JobRun, RunStatus
from app.jobs.registry import JOBS, CompanyWideJob, InvalidPeriod, JobEstateNotFound, JobSpec, UnknownJob
from app.jobs.runner import catch_up, run_job
from tests.factories import make_estate
from tests.helpers.jobs import TICK, tick

ROOT = Path(__file__).resolve().parents[2]


async def broken(session, *, estate, period):
    await audit.record(session, actor=system_actor("test"), action="test.broken", entity="job",
                       entity_id=period, estate_id=estate.id)
    await session.flush()
    raise RuntimeError("the printer is out of paper")


@pytest.fixture
def tick_job(monkeypatch):
    monkeypatch.setitem(JOBS, TICK.name, TICK)
    return TICK


async def _count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def _runs(sessionmaker, job: str) -> list[JobRun]:
    async with sessionmaker() as s:
        return list((await s.execute(select(JobRun).where(JobRun.job == job).order_by(JobRun.period))).scalars())


async def test_two_engines_racing_run_the_period_once(app, session, settings, tick_job):
    estate = await make_estate(session)
    engines = [make_engine(settings.database_url, pool_size=2) for _ in range(2)]
    try:
        makers = [make_sessionmaker(e) for e in engines]
        results = await asyncio.gather(*[
            run_job(m, TICK.name, estate_id=estate.id, period="2026-11-28") for m in makers for _ in range(2)])
    finally:
        for e in engines:
            await e.dispose()
    statuses = sorted(r.status for [r] in results)
    assert statuses == ["skipped", "skipped", "skipped", "succeeded"]
    # The advisory lock turns the others away at once rather than after the winner commits.
    assert {r.reason for [r] in results} == {None, "running in another process"}
    assert await _count(app.state.sessionmaker, JobRun, JobRun.job == TICK.name) == 1
    assert await _count(app.state.sessionmaker, AuditEntry, AuditEntry.action == "test.tick") == 1


SNIPPET = """
import asyncio, sys, time, uuid
from app.db import make_engine, make_sessionmaker
from app.jobs.registry import JOBS
from app.jobs.runner import run_job
from tests.helpers.jobs import TICK

async def main(url, estate_id, start_at):
    JOBS[TICK.name] = TICK
    engine = make_engine(url, pool_size=2)
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        [result] = await run_job(make_sessionmaker(engine), TICK.name, estate_id=uuid.UUID(estate_id), period="2026-11-28")
        print(result.status)
    finally:
        await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
"""


async def test_two_processes_racing_run_the_period_once(app, session, settings, tick_job):
    estate = await make_estate(session)
    start_at = str(time.time() + 4)  # both processes are imported and connected by then
    env = {**os.environ, "PROPDESK_TEST_TICK_SECONDS": "1.0", "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", SNIPPET, settings.database_url, str(estate.id), start_at,
                                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [await asyncio.wait_for(p.communicate(), timeout=60) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]
    assert sorted(out.decode().strip().splitlines()[-1] for out, _ in outputs) == ["skipped", "succeeded"]
    assert await _count(app.state.sessionmaker, JobRun, JobRun.job == TICK.name) == 1
    assert await _count(app.state.sessionmaker, AuditEntry, AuditEntry.action == "test.tick") == 1


async def test_a_succeeded_period_is_skipped_unless_forced(app, session, tick_job):
    estate = await make_estate(session)
    sm = app.state.sessionmaker
    [first] = await run_job(sm, TICK.name, estate_id=estate.id, period="2026-11-28")
    [again] = await run_job(sm, TICK.name, estate_id=estate.id, period="2026-11-28")
    [forced] = await run_job(sm, TICK.name, estate_id=estate.id, period="2026-11-28", force=True)
    assert (first.status, again.status, forced.status) == ("succeeded", "skipped", "succeeded")
    assert again.reason == "already succeeded"
    assert first.summary == {"estate": estate.code} and first.duration_ms >= 0
    [run] = await _runs(sm, TICK.name)
    assert run.attempts == 2 and run.status == RunStatus.succeeded
    assert await _count(sm, AuditEntry, AuditEntry.action == "test.tick") == 2


async def test_a_failed_run_is_recorded_rolled_back_and_retried(app, session, monkeypatch):
    estate = await make_estate(session)
    sm = app.state.sessionmaker
    monkeypatch.setitem(JOBS, "test_broken", JobSpec(name="test_broken", cron="0 17 * * *", func=broken))
    [failed] = await run_job(sm, "test_broken", estate_id=estate.id, period="2026-11-28")
    assert failed.status == "failed" and "out of paper" in failed.error
    [run] = await _runs(sm, "test_broken")
    assert run.status == RunStatus.failed and run.finished_at is not None and "RuntimeError" in run.error
    # The job's own writes went with its failure.
    assert await _count(sm, AuditEntry, AuditEntry.action == "test.broken") == 0
    monkeypatch.setitem(JOBS, "test_broken", JobSpec(name="test_broken", cron="0 17 * * *", func=tick))
    [retried] = await run_job(sm, "test_broken", estate_id=estate.id, period="2026-11-28")
    assert retried.status == "succeeded" and retried.run_id == failed.run_id
    [run] = await _runs(sm, "test_broken")
    assert run.attempts == 2 and run.error is None


async def test_every_estate_runs_in_its_own_time_zone(app, session, tick_job):
    company_estate = await make_estate(session, time_zone="Asia/Shanghai")
    other = await make_estate(session, time_zone="America/New_York")
    now = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    results = await run_job(app.state.sessionmaker, TICK.name, now=now)
    assert {r.estate_id: r.period for r in results} == {company_estate.id: "2026-11-29", other.id: "2026-11-28"}
    only = await run_job(app.state.sessionmaker, TICK.name, now=now, estate_ids=[other.id], force=True)
    assert [r.estate_id for r in only] == [other.id]


async def test_bad_requests_are_named_errors(app, session, tick_job):
    estate = await make_estate(session)
    sm = app.state.sessionmaker
    with pytest.raises(UnknownJob):
        await run_job(sm, "no_such_job")
    with pytest.raises(InvalidPeriod):
        await run_job(sm, TICK.name, period="2026-W48")
    with pytest.raises(JobEstateNotFound):
        await run_job(sm, TICK.name, estate_id=uuid.uuid4())
    with pytest.raises(CompanyWideJob):
        await run_job(sm, "purge_expired", estate_id=estate.id)
    assert await _count(sm, JobRun) == 0


async def _estate_since(session, created_at: datetime, **kw):
    estate = await make_estate(session, **kw)
    estate.created_at = created_at
    await session.commit()
    return estate


async def test_catch_up_runs_the_period_missed_while_down(app, session, tick_job):
    estate = await _estate_since(session, datetime(2026, 11, 1, tzinfo=UTC))
    sm = app.state.sessionmaker
    # The service ran on the 27th, then was down over the 28th's 17:00 (09:00 UTC).
    await run_job(sm, TICK.name, estate_id=estate.id, period="2026-11-27")
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    results = await catch_up(sm, now=now, names=[TICK.name])
    assert [(r.period, r.status) for r in results] == [("2026-11-28", "succeeded")]
    assert [r.period for r in await _runs(sm, TICK.name)] == ["2026-11-27", "2026-11-28"]
    # Started again the same evening: nothing left to make up.
    assert await catch_up(sm, now=now + timedelta(hours=2), names=[TICK.name]) == []
    # Before the day's 17:00 nothing of the 28th is due yet.
    early = await _estate_since(session, datetime(2026, 11, 1, tzinfo=UTC))
    results = await catch_up(sm, now=datetime(2026, 11, 28, 8, 0, tzinfo=UTC), names=[TICK.name])
    assert [(r.estate_id, r.period) for r in results] == [(early.id, "2026-11-27")]


async def test_catch_up_makes_up_several_periods_but_not_before_the_estate_existed(app, session, monkeypatch):
    monkeypatch.setitem(JOBS, TICK.name, JobSpec(name=TICK.name, cron=TICK.cron, func=tick, catch_up=3))
    old = await _estate_since(session, datetime(2026, 11, 1, tzinfo=UTC))
    await _estate_since(session, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    sm = app.state.sessionmaker
    await run_job(sm, TICK.name, estate_id=old.id, period="2026-11-27")
    results = await catch_up(sm, now=datetime(2026, 11, 28, 10, 0, tzinfo=UTC), names=[TICK.name])
    ran = sorted((r.estate_id == old.id, r.period) for r in results)
    assert ran == [(False, "2026-11-28"), (True, "2026-11-26"), (True, "2026-11-28")]
    assert all(r.status == "succeeded" for r in results)


async def test_catch_up_retries_a_failed_period(app, session, monkeypatch):
    estate = await _estate_since(session, datetime(2026, 11, 1, tzinfo=UTC))
    sm = app.state.sessionmaker
    monkeypatch.setitem(JOBS, TICK.name, JobSpec(name=TICK.name, cron=TICK.cron, func=broken))
    [failed] = await run_job(sm, TICK.name, estate_id=estate.id, period="2026-11-28")
    monkeypatch.setitem(JOBS, TICK.name, TICK)
    [result] = await catch_up(sm, now=datetime(2026, 11, 28, 10, 0, tzinfo=UTC), names=[TICK.name])
    assert (failed.status, result.status, result.period) == ("failed", "succeeded", "2026-11-28")


async def test_company_wide_runs_collide_although_their_estate_is_null(app):
    async with app.state.sessionmaker() as s:
        s.add_all([JobRun(job="purge_expired", estate_id=None, period="2026-11-28T17") for _ in range(2)])
        with pytest.raises(IntegrityError):
            await s.flush()


async def test_a_closed_estate_is_left_out_of_every_estate_runs(app, session, tick_job):
    from app.domain.base import utcnow
    from tests.factories import make_company

    company = await make_company(session)
    open_, closed = await make_estate(session, company=company, code="A"), await make_estate(session, company=company, code="B")
    closed.closed_at, closed.closed_reason = utcnow(), "合同到期"
    await session.commit()
    results = await run_job(app.state.sessionmaker, TICK.name, period="2026-11-28")
    assert [r.estate_id for r in results] == [open_.id]
