"""purge_expired: the housekeeping job. Deletes what has outlived its use.

Other areas add their own expired records with `@purges("name")`, as the idempotency store
does below:

    @purges("stream_tickets")
async def _purge_stream_tickets(session: AsyncSession, *, now: datetime) -> int:
    return await stream_tickets.purge_expired(session, older_than=now - TOKEN_GRACE)


@purges("idempotency_records")
    async def _purge_idempotency(session, *, now):
        return await idempotency_service.purge_expired(session, older_than=now)

Each purger returns how many rows it deleted; the run's summary shows it under its name.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth import service as auth_service
from app.domain.base import utcnow
from app.domain.events import tickets as stream_tickets
from app.domain.idempotency import service as idempotency_service
from app.domain.ratelimit import service as ratelimit_service

Purger = Callable[..., Awaitable[int]]

# A revoked or expired token is kept a day so "why was I signed out?" can still be answered.
TOKEN_GRACE = timedelta(days=1)

PURGERS: dict[str, Purger] = {}


def purges(name: str) -> Callable[[Purger], Purger]:
    """Register `async def f(session, *, now) -> int` to run with every purge."""

    def register(func: Purger) -> Purger:
        PURGERS[name] = func
        return func

    return register


@purges("auth_tokens")
async def _purge_tokens(session: AsyncSession, *, now: datetime) -> int:
    return await auth_service.purge_expired_tokens(session, older_than=now - TOKEN_GRACE)


@purges("stream_tickets")
async def _purge_stream_tickets(session: AsyncSession, *, now: datetime) -> int:
    return await stream_tickets.purge_expired(session, older_than=now - TOKEN_GRACE)


@purges("idempotency_records")
async def _purge_idempotency(session: AsyncSession, *, now: datetime) -> int:
    return await idempotency_service.purge_expired(session, now=now)


@purges("rate_limit_hits")
async def _purge_rate_limits(session: AsyncSession, *, now: datetime) -> int:
    return await ratelimit_service.purge_expired(session, now=now)


async def purge_expired(session: AsyncSession, *, estate: Any, period: str) -> dict[str, Any]:
    """Delete sign-in tokens expired or revoked over a day ago, and other expired records."""
    now = utcnow()
    return {"deleted": {name: await purger(session, now=now) for name, purger in PURGERS.items()}}
