"""Per-user rate limits on sign-in and on the expensive reports, counted in PostgreSQL.

The limits are small here; the clock the limiter reads is replaced (app.dependency_overrides)
so that a test crosses a minute's window without sleeping.
"""
from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from app.api import ratelimit, routes
from app.config import Settings
from app.domain.auth.model import AuthToken
from app.domain.auth.roles import Role
from app.domain.ratelimit.model import RateLimitHit
from tests.factories import make_estate, make_staff
from tests.ratelimit_helpers import client_from, login, override_clock

API = "/api/v1"
LOGIN = f"{API}/auth/login"
PROBLEM = "application/problem+json"
PER_USER, PER_ADDRESS, REPORTS = 3, 5, 4
# 20 s into a minute: the window ends in 40 s.
T0 = datetime(2026, 11, 30, 9, 15, 20, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, scheduler_enabled=False, log_json=False,
                    login_max_failures=PER_USER, login_ip_rate_per_minute=PER_ADDRESS, report_rate_per_minute=REPORTS)


@pytest.fixture
def clock(app):
    yield from override_clock(app, T0)


def assert_429(r: httpx.Response, *, retry_after: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == "/problems/rate-limited" and body["status"] == 429
    assert r.headers["retry-after"] == str(retry_after) == str(body["retry_after_seconds"])


class TestLoginLimit:
    """Every attempt from one address, right or wrong (failures: tests/api/test_login_throttle.py)."""

    async def test_per_client_address_across_usernames(self, app, session, clock):
        estate = await make_estate(session)
        await make_staff(session, estates=[estate], username="zhao.lei")
        async with client_from(app, "203.0.113.7") as guesser, client_from(app, "198.51.100.2") as office:
            for n in range(PER_ADDRESS):
                assert (await login(guesser, f"nobody{n}")).status_code == 401
            assert_429(await login(guesser, "zhao.lei"), retry_after=40)
            clock.advance(30)
            assert_429(await login(guesser, "zhao.lei"), retry_after=10)
            assert (await login(office, "zhao.lei")).status_code == 200
            clock.advance(10)
            assert (await login(guesser, "zhao.lei")).status_code == 200
        assert await tokens(app) == 3  # the factory's and two sign-ins

    async def test_malformed_is_422_and_not_counted(self, client, session, clock):
        estate = await make_estate(session)
        await make_staff(session, estates=[estate], username="li.na")
        for bad in ({"username": "li.na"}, {"username": "li.na\x00", "password": "x"}):
            for _ in range(PER_ADDRESS):
                assert (await client.post(LOGIN, json=bad)).status_code == 422
        for _ in range(PER_ADDRESS):
            assert (await login(client, "li.na")).status_code == 200
        assert_429(await login(client, "li.na"), retry_after=40)

    async def test_a_throttled_name_leaves_another_alone(self, client, session, clock):
        estate = await make_estate(session)
        await make_staff(session, estates=[estate], username="zhang.wei")
        await make_staff(session, estates=[estate], username="chen.jing")
        for _ in range(PER_USER):
            assert (await login(client, "zhang.wei", "wrong-password")).status_code == 401
        r = await login(client, "zhang.wei")
        assert r.status_code == 429 and r.json()["type"] == "/problems/sign-in-throttled"
        assert PER_USER + 2 <= PER_ADDRESS  # this address is still under its own limit
        assert (await login(client, "chen.jing")).status_code == 200


async def tokens(app) -> int:
    async with app.state.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(AuthToken))).scalar_one()


def month_end(estate) -> str:
    return f"{API}/estates/{estate.id}/fee-reports/month-end"


class TestReportLimit:
    async def test_per_user_budget_across_reports_then_429_and_reset(self, client, session, clock):
        estate = await make_estate(session)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        other = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        urls = [month_end(estate), f"{API}/estates/{estate.id}/repairs/daily-log",
                f"{API}/estates/{estate.id}/arrears", f"{API}/estates/{estate.id}/callback-rate"]
        for url in urls[:REPORTS]:
            assert (await client.get(url, headers=boss.headers)).status_code == 200, url
        for url in urls:
            assert_429(await client.get(url, headers=boss.headers), retry_after=40)
        assert (await client.get(month_end(estate), headers=other.headers)).status_code == 200
        clock.advance(40)
        assert (await client.get(month_end(estate), headers=boss.headers)).status_code == 200

    async def test_a_malformed_request_is_422_and_not_counted(self, client, session, clock):
        estate = await make_estate(session)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        for _ in range(REPORTS + 2):
            r = await client.get(month_end(estate), params={"month": "2026-13"}, headers=boss.headers)
            assert r.status_code == 422, r.text
        for _ in range(REPORTS):
            assert (await client.get(month_end(estate), headers=boss.headers)).status_code == 200
        assert_429(await client.get(month_end(estate), headers=boss.headers), retry_after=40)

    async def test_anonymous_is_401_and_not_counted(self, app, client, session, clock):
        estate = await make_estate(session)
        for _ in range(REPORTS + 2):
            assert (await client.get(month_end(estate))).status_code == 401
            assert (await client.get(month_end(estate), headers={"Authorization": "Bearer nonsense"})).status_code == 401
        async with app.state.sessionmaker() as s:
            assert (await s.execute(select(RateLimitHit))).all() == []

    async def test_zero_turns_the_limit_off(self, client, session, settings, clock):
        settings.report_rate_per_minute = 0
        estate = await make_estate(session)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        for _ in range(REPORTS + 2):
            assert (await client.get(month_end(estate), headers=boss.headers)).status_code == 200


class TestOpenApi:
    def test_every_limited_route_declares_429(self, app):
        schema = app.openapi()
        limited = []
        for route in (r for router in routes.ROUTERS for r in router.routes):
            dependencies = {d.dependency for d in getattr(route, "dependencies", [])}
            dependencies |= {d.call for d in route.dependant.dependencies}
            if dependencies & {ratelimit.admit_login, ratelimit.limit_reports}:
                path = API + route.path
                limited.append(path)
                for method in route.methods:
                    responses = schema["paths"][path][method.lower()]["responses"]
                    assert "RateLimited" in responses["429"]["description"], path
                    assert PROBLEM in responses["429"]["content"], path
        assert f"{LOGIN}" in limited
        assert "SignInThrottled" in schema["paths"][LOGIN]["post"]["responses"]["429"]["description"]
        assert {f"{API}/estates/{{estate_id}}/fee-reports/month-end", f"{API}/estates/{{estate_id}}/fee-reports/saturday-register",
                f"{API}/estates/{{estate_id}}/repairs/daily-log", f"{API}/estates/{{estate_id}}/callback-rate",
                f"{API}/estates/{{estate_id}}/arrears", f"{API}/estates/{{estate_id}}/stocktake-report"} <= set(limited)
