"""Rate limits as route dependencies: `dependencies=[REPORT_LIMIT]`, and the sign-in's admission.

The count runs in its own short transaction, not in the request's session: it must stand when
the request fails (a refused sign-in still counts), and the counter row must not stay locked
while a report runs for seconds (the same user's next request would queue behind it).
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import SettingsDep
from app.config import Settings
from app.domain.auth import service as auth_service
from app.domain.auth import throttle
from app.domain.auth.schemas import LoginRequest
from app.domain.base import utcnow
from app.domain.errors import NotAuthenticated
from app.domain.ratelimit import service
from app.domain.ratelimit.service import Limit, RateLimited


def clock() -> datetime:
    """Now; tests replace it through app.dependency_overrides to cross a window without sleeping."""
    return utcnow()


ClockDep = Annotated[datetime, Depends(clock)]


async def _hit(session: AsyncSession, limits: list[Limit], now: datetime) -> None:
    try:
        await service.hit(session, limits, now=now)
    except RateLimited:
        # Kept when refused too: a client that keeps asking stays refused until the window ends.
        await session.commit()
        raise
    await session.commit()


async def _count(request: Request, limits: list[Limit], now: datetime) -> None:
    async with request.app.state.sessionmaker() as session:
        await _hit(session, limits, now)


def client_address(request: Request) -> str:
    """The connection's peer. `propdesk serve` lets uvicorn replace it with X-Forwarded-For only
    when the peer is one of PROPDESK_TRUSTED_PROXIES (none by default): anyone else could name
    any address there and so step around the per-address sign-in limits."""
    return request.client.host if request.client else "unknown"


def login_policy(settings: Settings) -> throttle.Policy:
    return throttle.Policy(
        max_failures=settings.login_max_failures, address_max_failures=settings.login_ip_max_failures,
        address_attempts_per_minute=settings.login_ip_rate_per_minute,
        window=timedelta(minutes=settings.login_throttle_minutes),
        known_place_for=timedelta(days=settings.login_known_place_days))


async def admit_login(request: Request, settings: SettingsDep, now: ClockDep) -> throttle.Admission | None:
    """Counted before the password is checked, in a short transaction of its own that is given
    back before argon2 runs (see app/domain/auth/throttle.py): a guesser over a threshold is
    stopped before argon2 spends CPU on it, and no database connection waits on the hashing.

    Reads the body the route parses anyway (the framework keeps it); a malformed one is left to
    the route's validation, which answers 422 without hashing anything, and is not counted.
    """
    try:
        body = LoginRequest.model_validate(await request.json())
    except (ValueError, ValidationError):
        return None
    async with request.app.state.sessionmaker() as session:
        # Autocommit: each count stands at once, refused or not (a client that keeps asking stays
        # refused until the window ends), and a storm on one name holds the counter's row lock
        # for one statement each, not until its COMMIT gets its turn on a busy event loop.
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return await throttle.admit(session, username=body.username, address=client_address(request),
                                    policy=login_policy(settings), now=now)


async def limit_reports(request: Request, settings: SettingsDep, now: ClockDep) -> AsyncIterator[None]:
    """One budget per user (or API key) across every expensive report and export.

    Runs before the route authenticates, on a connection of its own that it gives back before
    the request's session takes one: were it to wait for a second connection while holding the
    first, a burst of reports could take the whole pool and wait for each other. A request the
    route then refuses as malformed (422) ran no report and gets its hit back.
    """
    limit = await _report_limit(request, settings)
    if limit is not None:
        await _count(request, [limit], now)
    try:
        yield
    except RequestValidationError:
        if limit is not None:
            async with request.app.state.sessionmaker() as session:
                await service.refund(session, limit, now=now)
                await session.commit()
        raise


async def _report_limit(request: Request, settings: Settings) -> Limit | None:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential or settings.report_rate_per_minute <= 0:
        return None  # without a credential the route's own authentication answers 401
    async with request.app.state.sessionmaker() as session:
        try:
            actor = await auth_service.authenticate(session, credential=credential.strip())
        except NotAuthenticated:
            return None
        await session.commit()  # an API key's last_used_at
    return Limit(f"report:{actor.id}", settings.report_rate_per_minute)


LoginAdmissionDep = Annotated[throttle.Admission | None, Depends(admit_login)]
REPORT_LIMIT = Depends(limit_reports)
__all__ = ["REPORT_LIMIT", "LoginAdmissionDep", "RateLimited", "clock"]
