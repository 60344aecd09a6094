"""Two server processes, each with its own app and connection pool, count against one limit.

Each process fires more reports at once than its pool has connections, so this also shows that
the limiter never waits for a second connection while holding one.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from app.api import ratelimit
from app.config import Settings
from app.domain.auth.roles import Role
from app.domain.ratelimit.model import RateLimitHit
from app.main import create_app
from tests.factories import make_estate, make_staff

PROCESSES, EACH, LIMIT = 2, 25, 30  # 25 at once is more than a pool's 10 + 10 overflow
NOW = datetime(2026, 11, 30, 9, 15, 20, tzinfo=UTC)


async def _fire(database_url: str, url: str, headers: dict[str, str], barrier) -> list[int]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(database_url=database_url, data_dir=data_dir, scheduler_enabled=False, log_json=False,
                            report_rate_per_minute=LIMIT)
        app = create_app(settings)
        app.dependency_overrides[ratelimit.clock] = lambda: NOW  # both processes in the same window
        async with (app.router.lifespan_context(app),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client):
            assert (await client.get("/healthz")).status_code == 200
            await asyncio.to_thread(barrier.wait, 60)
            answers = await asyncio.wait_for(
                asyncio.gather(*[client.get(url, headers=headers) for _ in range(EACH)]), timeout=60)
    return [r.status_code for r in answers]


def _process(database_url: str, url: str, headers: dict[str, str], barrier, results) -> None:
    results.put(asyncio.run(_fire(database_url, url, headers, barrier)))


async def test_two_processes_share_one_counter(app, session, database_url):
    estate = await make_estate(session)
    boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
    await session.commit()
    url = f"/api/v1/estates/{estate.id}/callback-rate"  # the cheapest limited report
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_process, args=(database_url, url, boss.headers, barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    try:
        statuses = [s for _ in procs for s in await asyncio.to_thread(results.get, True, 110)]
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    assert sorted(set(statuses)) == [200, 429], statuses
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == PROCESSES * EACH - LIMIT
    async with app.state.sessionmaker() as s:
        hits = (await s.execute(select(RateLimitHit.hits).where(RateLimitHit.bucket == f"report:{boss.id}"))).scalar_one()
    assert hits == PROCESSES * EACH
