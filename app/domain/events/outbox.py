"""Writing an event: in the caller's transaction, with a pending delivery per subscriber."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import jsonable, utcnow
from app.domain.events.model import EventType, OutboxEvent, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from app.domain.notifications.service import Audience


async def subscribers(session: AsyncSession, *, estate_id: uuid.UUID) -> list[WebhookEndpoint]:
    """The estate's active endpoints; read ahead by a caller that is about to take a hot lock."""
    return list((await session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.estate_id == estate_id, WebhookEndpoint.active.is_(True))
    )).scalars())


async def emit(session: AsyncSession, *, estate_id: uuid.UUID, type: EventType, entity: str,  # noqa: A002
               entity_id: uuid.UUID | str, data: dict[str, Any] | None = None, at: datetime | None = None,
               endpoints: Sequence[WebhookEndpoint] | None = None, told: Audience | None = None) -> OutboxEvent:
    """Record that something happened. Nothing is sent here: the dispatcher sends what committed.

    `endpoints`: the estate's `subscribers`, `told`: the owners' notifications.audience, when the
    caller read them earlier in the transaction.
    """
    event = OutboxEvent(estate_id=estate_id, type=type.value, entity=entity, entity_id=str(entity_id),
                        occurred_at=at or utcnow(), data=jsonable(data or {}))
    session.add(event)
    if endpoints is None:
        endpoints = await subscribers(session, estate_id=estate_id)
    await session.flush()
    session.add_all([
        WebhookDelivery(estate_id=estate_id, event_id=event.id, endpoint_id=e.id, next_attempt_at=event.occurred_at,
                        retry_from=event.occurred_at)
        for e in endpoints if e.wants(type.value)
    ])
    await session.flush()
    # Owners hear about their repair and their payment; written now, sent after the commit.
    from app.domain.notifications import service as notifications

    await notifications.on_event(session, event, told=told)
    return event


def envelope(event: OutboxEvent) -> dict[str, Any]:
    """What a receiver gets: the event id is the de-duplication key."""
    return {"id": str(event.id), "seq": event.seq, "type": event.type, "estate_id": str(event.estate_id),
            "entity": event.entity, "entity_id": event.entity_id, "occurred_at": event.occurred_at.isoformat(),
            "data": event.data}
