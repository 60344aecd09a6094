"""The desk's live feed: the outbox read forward as server-sent events, per the user's estates.

Each event's `id:` is its outbox sequence number, so a client that reconnects with
Last-Event-ID misses nothing. A stream ends after a while (clients reconnect, as
EventSource does by itself), so no connection is held forever by a vanished client.

Each open stream holds a slot: a few per user (or API key) and a few hundred per process, so
one caller cannot hold every connection and database poll of the server.
"""
from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import BigInteger, all_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.base import utcnow
from app.domain.errors import DomainError, ErrorKind
from app.domain.events.doorbell import bell
from app.domain.events.model import EventType, OutboxEvent
from app.domain.events.outbox import envelope
from app.domain.registry.service import check_estate

HEARTBEAT_SECONDS = 15.0
BATCH = 200
# A stream ends by itself after max_seconds; a slot still held well past that was lost (its
# response never ran) and no longer counts.
STALE_AFTER_SECONDS = 60.0


class TooManyStreams(DomainError):
    kind = ErrorKind.too_many
    title = "Too many event streams open; close one, or reconnect after Retry-After"
    title_zh = "打开的事件流过多；请关闭一个，或在 Retry-After 之后重新连接"


def holder_of(actor: Actor) -> str:
    return f"{'api_key' if actor.is_api_key else 'user'}:{actor.id}"


@dataclass(eq=False)
class StreamSlot:
    holder: str
    started: float
    owner: StreamSlots

    def release(self) -> None:
        """Give the slot back; safe to call more than once (the stream's end and its response both do)."""
        self.owner.release(self)


@dataclass
class StreamSlots:
    """The event streams open in this process (one event loop: no lock needed)."""

    open: list[StreamSlot] = field(default_factory=list)

    def take(self, holder: str, *, per_holder: int, per_process: int, max_seconds: float) -> StreamSlot:
        now = time.monotonic()
        self.open = [s for s in self.open if now - s.started < max_seconds + STALE_AFTER_SECONDS]
        mine = [s for s in self.open if s.holder == holder]
        for held, cap, scope in ((mine, per_holder, "user"), (self.open, per_process, "process")):
            if 0 < cap <= len(held):
                # The oldest of these streams ends by itself within this time, freeing a slot.
                wait = max(1, math.ceil(max_seconds - (now - min(s.started for s in held))))
                raise TooManyStreams(f"at most {cap} open event streams per {scope}", limit=cap, scope=scope,
                                     retry_after_seconds=wait)
        slot = StreamSlot(holder=holder, started=now, owner=self)
        self.open.append(slot)
        return slot

    def release(self, slot: StreamSlot) -> None:
        if slot in self.open:
            self.open.remove(slot)

    def held_by(self, holder: str) -> int:
        return sum(1 for s in self.open if s.holder == holder)
# How long after an event a transaction holding an earlier number may still commit and be streamed.
SETTLE_SECONDS = 60.0


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


@dataclass(frozen=True)
class Viewer:
    """What one follower may see of its estates' events: a ringing phone's caller (names, units,
    arrears) is for whoever answers the desk's phone, the arrears only for a role that reads fees."""

    hidden: frozenset[str] = frozenset()
    sees_arrears: bool = True

    @classmethod
    def of(cls, actor: Actor) -> Viewer:
        hidden = frozenset() if actor.can(Perm.calls_answer) else frozenset({EventType.call_incoming.value})
        return cls(hidden=hidden, sees_arrears=actor.can(Perm.fees_read))

    def frame(self, event: OutboxEvent) -> str:
        shown = envelope(event)
        if event.type == EventType.call_incoming and not self.sees_arrears:
            lookup = shown["data"].get("lookup") or {}
            owners = [{**o, "arrears": None} for o in lookup.get("owners", [])]
            shown = {**shown, "data": {**shown["data"], "lookup": {**lookup, "owners": owners}}}
        data = json.dumps(shown, ensure_ascii=False, separators=(",", ":"))
        return f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"


@dataclass
class Cursor:
    """Where a stream is. Sequence numbers are taken at insert and transactions commit in any
    order, so an event may become visible after a later-numbered one was sent (two desks paying
    at once, on two API processes). Every poll reads what lies above `floor` less what was sent;
    the floor passes an event only SETTLE_SECONDS after it was sent."""

    floor: int
    sent: dict[int, float] = field(default_factory=dict)  # seq -> when sent (monotonic), all above floor

    def mark(self, seq: int, now: float) -> None:
        self.sent[seq] = now

    def settle(self, now: float) -> None:
        settled = [seq for seq, at in self.sent.items() if now - at >= SETTLE_SECONDS]
        if settled:
            self.floor = max(self.floor, *settled)
            self.sent = {seq: at for seq, at in self.sent.items() if seq > self.floor}


async def _cursor(sessionmaker: async_sessionmaker[AsyncSession], *, estates: Sequence[uuid.UUID], after: int) -> Cursor:
    """Start after `after`: what is already there up to it counts as sent, and what commits
    there later (an open transaction's event) is still to come."""
    mine = OutboxEvent.estate_id.in_(estates)
    async with sessionmaker() as session:
        floor = (await session.execute(select(func.max(OutboxEvent.seq)).where(
            mine, OutboxEvent.seq <= after, OutboxEvent.occurred_at < utcnow() - timedelta(seconds=SETTLE_SECONDS)))).scalar()
        floor = int(floor or 0)
        there = (await session.execute(select(OutboxEvent.seq).where(mine, OutboxEvent.seq > floor, OutboxEvent.seq <= after))).scalars()
        now = time.monotonic()
        return Cursor(floor=floor, sent={seq: now for seq in there if seq is not None})


async def _unsent(sessionmaker: async_sessionmaker[AsyncSession], *, estates: Sequence[uuid.UUID], cursor: Cursor,
                  types: Sequence[EventType], hidden: frozenset[str]) -> list[OutboxEvent]:
    stmt = (select(OutboxEvent).where(OutboxEvent.estate_id.in_(estates), OutboxEvent.seq > cursor.floor)
            .order_by(OutboxEvent.seq).limit(BATCH))
    if cursor.sent:
        stmt = stmt.where(OutboxEvent.seq != all_(bindparam("sent", list(cursor.sent), type_=ARRAY(BigInteger))))
    if types:
        stmt = stmt.where(OutboxEvent.type.in_([t.value for t in types]))
    if hidden:
        stmt = stmt.where(OutboxEvent.type.not_in(sorted(hidden)))
    async with sessionmaker() as session:
        return list((await session.execute(stmt)).scalars())


async def follow(sessionmaker: async_sessionmaker[AsyncSession], *, estates: Sequence[uuid.UUID], after: int,
                 types: Sequence[EventType], max_seconds: float, poll_seconds: float,
                 disconnected: Callable[[], Awaitable[bool]], slot: StreamSlot | None = None,
                 viewer: Viewer | None = None) -> AsyncIterator[str]:
    """Frames for every new event, and a comment now and then to keep proxies from closing us.
    The slot, if any, is given back when the stream ends, however it ends. Between polls the
    stream waits for this process's next commit of an event (doorbell.py), or the poll's time."""
    viewer = viewer or Viewer()
    try:
        started = last_sent = time.monotonic()
        cursor: Cursor | None = None
        yield f"retry: {int(poll_seconds * 1000) + 1000}\n\n"
        while time.monotonic() - started < max_seconds and not await disconnected():
            # Read on the first poll: a client gone at once costs no query.
            cursor = cursor or await _cursor(sessionmaker, estates=estates, after=after)
            rings = bell.rings(estates)
            events = await _unsent(sessionmaker, estates=estates, cursor=cursor, types=types, hidden=viewer.hidden)
            for event in events:
                cursor.mark(int(event.seq or 0), time.monotonic())
                yield viewer.frame(event)
            cursor.settle(time.monotonic())
            if events:
                last_sent = time.monotonic()
                continue
            if time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
                last_sent = time.monotonic()
                yield ": keep-alive\n\n"
            await bell.wait(min(poll_seconds, max(0.0, max_seconds - (time.monotonic() - started))), estates=estates, since=rings)
    finally:
        if slot is not None:
            slot.release()
