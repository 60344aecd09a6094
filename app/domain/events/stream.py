"""The desk's live feed: the outbox read forward as server-sent events, per the user's estates.

Each event's `id:` is its outbox sequence number, so a client that reconnects with
Last-Event-ID misses nothing. A stream ends after a while (clients reconnect, as
EventSource does by itself), so no connection is held forever by a vanished client.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.auth.principal import Actor
from app.domain.events.model import EventType, OutboxEvent
from app.domain.events.outbox import envelope
from app.domain.registry.service import check_estate

HEARTBEAT_SECONDS = 15.0
BATCH = 200


async def scope(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID | None,
                last_event_id: int | None) -> tuple[list[uuid.UUID], int]:
    """The estates to follow and the sequence number to follow from (now, unless resuming)."""
    if estate_id is not None:
        await check_estate(session, actor=actor, estate_id=estate_id)
        estates = [estate_id]
    else:
        estates = sorted(actor.estate_ids)
    if last_event_id is not None:
        return estates, last_event_id
    latest = (await session.execute(select(func.max(OutboxEvent.seq)))).scalar()
    return estates, int(latest or 0)


def frame(event: OutboxEvent) -> str:
    data = json.dumps(envelope(event), ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"


async def _after(sessionmaker: async_sessionmaker[AsyncSession], *, estates: Sequence[uuid.UUID], after: int,
                 types: Sequence[EventType]) -> list[OutboxEvent]:
    stmt = (select(OutboxEvent).where(OutboxEvent.estate_id.in_(estates), OutboxEvent.seq > after)
            .order_by(OutboxEvent.seq).limit(BATCH))
    if types:
        stmt = stmt.where(OutboxEvent.type.in_([t.value for t in types]))
    async with sessionmaker() as session:
        return list((await session.execute(stmt)).scalars())


async def follow(sessionmaker: async_sessionmaker[AsyncSession], *, estates: Sequence[uuid.UUID], after: int,
                 types: Sequence[EventType], max_seconds: float, poll_seconds: float,
                 disconnected: Callable[[], Awaitable[bool]]) -> AsyncIterator[str]:
    """Frames for every new event, and a comment now and then to keep proxies from closing us."""
    started = last_sent = time.monotonic()
    yield f"retry: {int(poll_seconds * 1000) + 1000}\n\n"
    while time.monotonic() - started < max_seconds and not await disconnected():
        events = await _after(sessionmaker, estates=estates, after=after, types=types)
        for event in events:
            after = max(after, event.seq or after)
            yield frame(event)
        if events:
            last_sent = time.monotonic()
            continue
        if time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(min(poll_seconds, max(0.0, max_seconds - (time.monotonic() - started))))
