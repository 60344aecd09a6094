"""Shared by the rate-limit and sign-in throttle tests: a clock the limiter reads, and callers
from a given client address."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx

from app.api import ratelimit
from tests.factories import PASSWORD

LOGIN = "/api/v1/auth/login"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, seconds: float = 0, **delta: float) -> None:
        self.now += timedelta(seconds=seconds, **delta)


def override_clock(app, start: datetime) -> Iterator[Clock]:
    """For a fixture: the app's limiter reads this clock until the test ends."""
    c = Clock(start)
    app.dependency_overrides[ratelimit.clock] = lambda: c.now
    yield c
    app.dependency_overrides.pop(ratelimit.clock, None)


def client_from(app, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 40000)), base_url="http://test")


def login(c: httpx.AsyncClient, username: str, password: str = PASSWORD):
    return c.post(LOGIN, json={"username": username, "password": password})
