"""An exhausted database pool, of 5 + 10 overflow connections: 503 with Retry-After, not 500."""
from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from app.config import Settings
from tests.factories import make_estate, make_staff

ME = "/api/v1/auth/me"
PROBLEM = "application/problem+json"
POOL, OVERFLOW = 5, 10  # app/db.py's max_overflow


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:  # noqa: ANN001
    return Settings(database_url=database_url, data_dir=tmp_path, scheduler_enabled=False, log_json=False,
                    db_pool_size=POOL, db_pool_timeout_seconds=2.0)


async def test_an_exhausted_pool_is_503_with_retry_after(app, client, session):
    estate = await make_estate(session)
    staff = await make_staff(session, estates=[estate])
    await session.commit()
    async with AsyncExitStack() as held:
        for _ in range(POOL + OVERFLOW):
            await held.enter_async_context(app.state.engine.connect())
        r = await client.get(ME, headers=staff.headers)
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"] == "/problems/database-busy"
    assert int(r.headers["retry-after"]) > 0
    assert (await client.get(ME, headers=staff.headers)).status_code == 200
