"""Rate limits as route dependencies: `dependencies=[LOGIN_LIMIT]`, `dependencies=[REPORT_LIMIT]`.

The count runs in its own short transaction, not in the request's session: it must stand when
the request fails (a refused sign-in still counts), and the counter row must not stay locked
while a report runs for seconds (the same user's next request would queue behind it).
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import SettingsDep
from app.config import Settings
from app.domain.auth import service as auth_service
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
    # Behind a proxy, uvicorn's --proxy-headers / --forwarded-allow-ips put the real client here.
    return request.client.host if request.client else "unknown"


async def limit_login(request: Request, settings: SettingsDep, now: ClockDep) -> None:
    """Counted before the password is checked: a guesser is stopped before argon2 spends CPU on it.

    Reads the body the route parses anyway (the framework keeps it); a malformed one is left to
    the route's validation, which answers 422 without hashing anything, and is not counted.
    """
    try:
        body = LoginRequest.model_validate(await request.json())
    except (ValueError, ValidationError):
        return
    await _count(request, [
        Limit(f"login-user:{body.username.strip().casefold()}", settings.login_rate_per_minute),
        Limit(f"login-ip:{client_address(request)}", settings.login_ip_rate_per_minute),
    ], now)


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


LOGIN_LIMIT = Depends(limit_login)
REPORT_LIMIT = Depends(limit_reports)
__all__ = ["LOGIN_LIMIT", "REPORT_LIMIT", "RateLimited", "clock"]
