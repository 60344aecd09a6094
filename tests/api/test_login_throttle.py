"""Sign-in throttling (app/domain/auth/throttle.py): no lock anyone can set off, no username oracle.

The clock the throttle reads is replaced (app.dependency_overrides), so a test crosses a window
without sleeping; each client comes from an address of its own (ASGITransport's `client`).
"""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.domain.auth.model import AuthToken, SignInPlace, User
from tests.factories import make_estate, make_staff
from tests.ratelimit_helpers import client_from, login, override_clock

LOGIN = "/api/v1/auth/login"
PROBLEM = "application/problem+json"
MAX, ADDRESS_MAX, KNOWN_DAYS = 3, 8, 30
# 5 min 20 s into a 15-minute window: it ends in 580 s.
T0 = datetime(2026, 11, 30, 9, 20, 20, tzinfo=UTC)
WINDOW_LEFT = 580
HOME, ATTACKER, ELSEWHERE, CAFE = "198.51.100.20", "203.0.113.66", "192.0.2.9", "192.0.2.77"


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, scheduler_enabled=False, log_json=False,
                    login_max_failures=MAX, login_ip_max_failures=ADDRESS_MAX, login_throttle_minutes=15,
                    login_known_place_days=KNOWN_DAYS, login_ip_rate_per_minute=1000)


@pytest.fixture
def clock(app):
    yield from override_clock(app, T0)


def assert_throttled(r: httpx.Response, *, retry_after: int = WINDOW_LEFT) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"] == "/problems/sign-in-throttled"
    assert r.headers["retry-after"] == str(retry_after) == str(r.json()["retry_after_seconds"])
    assert "access_token" not in r.text


def assert_wrong(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    assert r.json()["type"] == "/problems/invalid-credentials"


async def tokens_of(app, username: str) -> int:
    """Tokens issued by signing in: the factory's own token of each user is not one."""
    async with app.state.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(AuthToken).join(User, User.id == AuthToken.user_id)
                                .where(User.username == username))).scalar_one() - 1


async def victim(session, username: str = "victim") -> None:
    await make_staff(session, estates=[await make_estate(session)], username=username)


class TestKnownPlace:
    async def test_a_flood_from_elsewhere_leaves_the_user_in_at_their_known_place(self, app, session, clock):
        await victim(session)
        async with client_from(app, HOME) as home, client_from(app, ATTACKER) as attacker, \
                client_from(app, ELSEWHERE) as new_place:
            assert (await login(home, "victim")).status_code == 200  # home is a known place from now on
            for _ in range(MAX):
                assert_wrong(await login(attacker, "victim", "a-guess-123"))
            for _ in range(5):
                assert_throttled(await login(attacker, "victim", "a-guess-123"))
            # Refused before the password is looked at: even the right one gets nowhere from there.
            assert_throttled(await login(attacker, "victim"))
            assert (await login(home, "victim")).status_code == 200
            assert_throttled(await login(new_place, "victim"))  # a new place waits for the window
            assert await tokens_of(app, "victim") == 2
            clock.advance(seconds=WINDOW_LEFT)
            assert (await login(new_place, "victim")).status_code == 200

    async def test_a_guesser_at_the_known_place_is_slowed_down_too(self, app, session, clock):
        await victim(session)
        async with client_from(app, HOME) as home:
            assert (await login(home, "victim")).status_code == 200
            for _ in range(MAX):
                assert_wrong(await login(home, "victim", "a-guess-123"))
            assert_throttled(await login(home, "victim"))
        assert await tokens_of(app, "victim") == 1

    async def test_the_right_password_starts_the_count_at_that_place_again(self, app, session, clock):
        await victim(session)
        async with client_from(app, HOME) as home:
            for _ in range(2):
                for _ in range(MAX - 1):
                    assert_wrong(await login(home, "victim", "typo-typo-1"))
                assert (await login(home, "victim")).status_code == 200

    async def test_a_known_place_is_forgotten_after_its_lifetime(self, app, session, clock):
        await victim(session)
        async with client_from(app, HOME) as home, client_from(app, ATTACKER) as attacker:
            assert (await login(home, "victim")).status_code == 200
            clock.advance(days=KNOWN_DAYS, seconds=1)
            for _ in range(MAX):
                assert_wrong(await login(attacker, "victim", "a-guess-123"))
            assert_throttled(await login(home, "victim"), retry_after=WINDOW_LEFT - 1)
        async with app.state.sessionmaker() as s:
            assert [p.address for p in (await s.execute(select(SignInPlace))).scalars()] == [HOME]


def shape(r: httpx.Response) -> tuple:
    headers = {k: v for k, v in r.headers.items() if k != "x-request-id"}
    return r.status_code, headers, r.json()


class TestNoUsernameOracle:
    async def test_real_and_unknown_names_answer_alike_at_every_stage(self, app, session, clock):
        await victim(session, "real.name")
        await make_staff(session, estates=[await make_estate(session)], username="gone.away", is_active=False)
        # One address per name, so that the per-address count is the same for each.
        names = {"real.name": ATTACKER, "no.such.name": ELSEWHERE, "gone.away": CAFE}
        clients = {name: client_from(app, host) for name, host in names.items()}
        statuses = []
        try:
            for _ in range(MAX + 3):
                answers = [await login(clients[name], name, "a-guess-123") for name in names]
                assert shape(answers[0]) == shape(answers[1]) == shape(answers[2])
                statuses.append(answers[0].status_code)
            # Throttled: the right password of the real name is answered as the unknown name's guess.
            right, unknown = await login(clients["real.name"], "real.name"), await login(clients["no.such.name"], "no.such.name")
            assert shape(right) == shape(unknown)
        finally:
            for c in clients.values():
                await c.aclose()
        assert statuses == [401] * MAX + [429] * 3
        assert await tokens_of(app, "real.name") == 0


class TestCountsExactly:
    async def test_guesses_sent_at_once_cannot_slip_under_the_threshold(self, app, session, clock):
        await victim(session)
        async with client_from(app, ATTACKER) as attacker:
            answers = await asyncio.gather(*[login(attacker, "victim", f"guess-{n:04d}") for n in range(12)])
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [401] * MAX + [429] * (12 - MAX), statuses
        for r in answers:
            if r.status_code == 429:
                assert_throttled(r)

    async def test_a_spray_over_many_names_from_one_address_is_throttled(self, app, session, clock):
        await victim(session)
        async with client_from(app, ATTACKER) as attacker, client_from(app, HOME) as home:
            for n in range(ADDRESS_MAX):
                assert_wrong(await login(attacker, f"someone{n}", "a-guess-123"))
            assert_throttled(await login(attacker, "someone-else", "a-guess-123"))
            assert_throttled(await login(attacker, "victim"))
            assert (await login(home, "victim")).status_code == 200

    async def test_a_malformed_body_is_422_and_not_counted(self, app, session, clock):
        await victim(session)
        async with client_from(app, ATTACKER) as attacker:
            for _ in range(MAX + 2):
                r = await attacker.post(LOGIN, json={"username": "victim"})
                assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["password"]
            assert (await login(attacker, "victim")).status_code == 200
