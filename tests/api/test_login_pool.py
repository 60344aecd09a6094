"""A storm of sign-ins and an exhausted database pool, on a pool of 5 + 10 overflow connections.

argon2 takes a fifth of a second a password. A sign-in that held a connection while it hashed
(or while it queued for the hashing threads) would, forty at once, keep the fifteen connections
for 35 verifications' time and every other request would wait past the pool's timeout (a 500
before, a 503 now). The timeout is ten verifications of this machine at this moment, so that a
loaded machine slows the storm and the timeout alike.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.domain.auth import secrets
from app.domain.auth.model import AuthToken
from tests.factories import make_estate, make_staff

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
PROBLEM = "application/problem+json"
POOL, OVERFLOW = 5, 10  # app/db.py's max_overflow
STORM = 40


def verification_seconds() -> float:
    digest = secrets.hash_password("calibrating")
    started = time.perf_counter()
    secrets.verify_password(digest, "calibrating")
    return time.perf_counter() - started


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    # Thresholds out of the way: every one of the storm's guesses reaches argon2.
    return Settings(database_url=database_url, data_dir=tmp_path, scheduler_enabled=False, log_json=False,
                    db_pool_size=POOL, db_pool_timeout_seconds=max(2.0, 10 * verification_seconds()),
                    password_hash_threads=1,
                    login_max_failures=1000, login_ip_max_failures=1000, login_ip_rate_per_minute=0)


async def test_a_storm_of_sign_ins_does_not_hold_the_pool(app, client, session):
    estate = await make_estate(session)
    staff = await make_staff(session, estates=[estate], username="busy.desk")
    await session.commit()
    async with AsyncExitStack() as warm:  # the pool's own connections open, as in a running server
        for _ in range(POOL):
            await warm.enter_async_context(app.state.engine.connect())
    guesses = [client.post(LOGIN, json={"username": "busy.desk", "password": f"guess-{n:04d}"}) for n in range(STORM)]
    others = [client.get(ME, headers=staff.headers) for _ in range(10)]
    answers = await asyncio.gather(*guesses, *others)
    assert [r.status_code for r in answers[:STORM]] == [401] * STORM, {r.status_code for r in answers}
    assert all(r.json()["type"] == "/problems/invalid-credentials" for r in answers[:STORM])
    assert [r.status_code for r in answers[STORM:]] == [200] * 10
    async with app.state.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(AuthToken))).scalar_one() == 1  # the factory's


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
