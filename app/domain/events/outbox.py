"""Writing an event: in the caller's transaction, with a pending delivery per subscriber."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import jsonable, utcnow
from app.domain.events import doorbell
from app.domain.events.model import EventType, OutboxEvent, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from app.domain.notifications.service import Audience


@dataclass(frozen=True)
class ReadAhead:
    """What emitting an event on a unit reads: the estate's webhook subscribers and the owners to
    tell. Read by a caller about to take a hot lock (a payment, before the receipt counter), so
    that emitting under the lock only writes."""

    endpoints: list[WebhookEndpoint]
    told: Audience


async def _subscribers(session: AsyncSession, *, estate_id: uuid.UUID) -> list[WebhookEndpoint]:
    return list((await session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.estate_id == estate_id, WebhookEndpoint.active.is_(True))
    )).scalars())


async def read_ahead(session: AsyncSession, *, estate_id: uuid.UUID, type: EventType,
                     unit_id: uuid.UUID) -> ReadAhead:
    from app.domain.notifications import service as notifications

    return ReadAhead(endpoints=await _subscribers(session, estate_id=estate_id),
                     told=await notifications.audience(session, estate_id=estate_id, unit_id=unit_id, kind=type))


async def emit(session: AsyncSession, *, estate_id: uuid.UUID, type: EventType, entity: str,
               entity_id: uuid.UUID | str, data: dict[str, Any] | None = None, at: datetime | None = None,
               ahead: ReadAhead | None = None, private: dict[str, str] | None = None) -> OutboxEvent:
    """Record that something happened. Nothing is sent here: the dispatcher sends what committed.

    `ahead`: the event's `read_ahead`, when the caller read it earlier in the transaction.
    `private`: words for the owners' message only (the owner's code), never stored in the event.
    """
    event = OutboxEvent(estate_id=estate_id, type=type.value, entity=entity, entity_id=str(entity_id),
                        occurred_at=at or utcnow(), data=jsonable(data or {}))
    session.add(event)
    doorbell.emitted(session.sync_session, estate_id)  # this process's streams read it as soon as it commits
    endpoints = ahead.endpoints if ahead is not None else await _subscribers(session, estate_id=estate_id)
    await session.flush()
    session.add_all([
        WebhookDelivery(estate_id=estate_id, event_id=event.id, endpoint_id=e.id, next_attempt_at=event.occurred_at,
                        retry_from=event.occurred_at)
        for e in endpoints if e.wants(type.value)
    ])
    await session.flush()
    # Owners hear about their repair and their payment; written now, sent after the commit.
    from app.domain.notifications import service as notifications

    await notifications.on_event(session, event, told=ahead.told if ahead is not None else None, private=private)
    return event


def envelope(event: OutboxEvent) -> dict[str, Any]:
    """What a receiver gets: the event id is the de-duplication key."""
    return {"id": str(event.id), "seq": event.seq, "type": event.type, "estate_id": str(event.estate_id),
            "entity": event.entity, "entity_id": event.entity_id, "occurred_at": event.occurred_at.isoformat(),
            "data": event.data}
