"""Fixed-window rate limits counted in PostgreSQL: one upsert per request, whatever the workers.

Each request adds one hit to each of its buckets with a single
`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`; the row lock taken by the upsert makes
concurrent hits from any number of processes count exactly. A window is aligned on the epoch
(every minute on the minute), so every process agrees on it without talking to the others.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import rows_affected
from app.domain.errors import DomainError, ErrorKind
from app.domain.ratelimit.model import RateLimitHit

MINUTE = timedelta(minutes=1)


class RateLimited(DomainError):
    kind = ErrorKind.too_many
    title = "Too many requests; wait before trying again"
    title_zh = "请求过于频繁，请稍后再试"


@dataclass(frozen=True)
class Limit:
    bucket: str
    per_window: int  # 0 or less: no limit
    window: timedelta = MINUTE


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = window.total_seconds()
    return datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, UTC)


async def count(session: AsyncSession, limits: Sequence[Limit], *, now: datetime) -> list[tuple[Limit, int, datetime]]:
    """Add one hit to every limit's bucket; each limit with its count and window start after the hit.

    One `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`: the row locks make concurrent hits from
    any number of processes count exactly. Limits of 0 or less are not counted.
    """
    active = {limit.bucket: limit for limit in limits if limit.per_window > 0}
    if not active:
        return []
    # Sorted, so that two requests sharing buckets lock their rows in the same order.
    rows = [{"bucket": b, "window_start": window_start(now, active[b].window), "hits": 1} for b in sorted(active)]
    table = RateLimitHit.__table__
    stmt = insert(table).values(rows)
    # A process whose clock is behind must not reset a newer window: keep the later one.
    same_window = table.c.window_start >= stmt.excluded.window_start
    upsert = stmt.on_conflict_do_update(
        index_elements=[table.c.bucket],
        set_={"hits": case((same_window, table.c.hits + 1), else_=1),
              "window_start": func.greatest(table.c.window_start, stmt.excluded.window_start)},
    ).returning(table.c.bucket, table.c.hits, table.c.window_start)
    return [(active[bucket], hits, start) for bucket, hits, start in await session.execute(upsert)]


def seconds_left(limit: Limit, start: datetime, now: datetime) -> int:
    """The Retry-After of a window that began at `start`: at least a second."""
    return max(1, math.ceil((start + limit.window - now).total_seconds()))


async def hit(session: AsyncSession, limits: Sequence[Limit], *, now: datetime) -> None:
    """Count one request against every limit; RateLimited if any of them is now over.

    The hit is counted even when refused, so a client that keeps hammering stays refused
    until the window ends; the caller commits either way.
    """
    over = [(limit, start) for limit, hits, start in await count(session, limits, now=now) if hits > limit.per_window]
    if over:
        raise refusal(*max(over, key=lambda o: o[1] + o[0].window), now=now)


def refusal(limit: Limit, start: datetime, *, now: datetime) -> RateLimited:
    """The 429 of a limit that is over in the window that began at `start`."""
    retry = seconds_left(limit, start, now)
    return RateLimited(f"at most {limit.per_window} requests per {int(limit.window.total_seconds())} s; "
                       f"retry in {retry} s", retry_after_seconds=retry, limit=limit.per_window,
                       window_seconds=int(limit.window.total_seconds()))


async def clear(session: AsyncSession, bucket: str) -> None:
    await session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket))


async def purge_expired(session: AsyncSession, *, now: datetime, keep: timedelta = timedelta(hours=1)) -> int:
    """Forget buckets whose window ended long ago (a sign-in spray leaves one per guessed name)."""
    result = await session.execute(delete(RateLimitHit).where(RateLimitHit.window_start < now - keep))
    return rows_affected(result)


async def refund(session: AsyncSession, limit: Limit, *, now: datetime) -> None:
    """Take back one hit of the current window: for a request refused as malformed before any work."""
    table = RateLimitHit.__table__
    await session.execute(
        update(table)
        .where(table.c.bucket == limit.bucket, table.c.window_start == window_start(now, limit.window), table.c.hits > 0)
        .values(hits=table.c.hits - 1)
    )
