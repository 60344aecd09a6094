"""A webhook subscriber to deliver to, and events emitted for it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.domain.events import outbox
from app.domain.events.model import EventType, WebhookEndpoint
from tests.factories import make_estate

SECRET = "whsec_test-secret"


async def subscribed(session, url: str):
    estate = await make_estate(session)
    hook = WebhookEndpoint(estate_id=estate.id, url=url, secret=SECRET, event_types=[])
    session.add(hook)
    await session.commit()
    return estate, hook


@dataclass(frozen=True)
class Emitted:
    id: uuid.UUID
    occurred_at: datetime


async def emit(session, estate, n: int = 1) -> list[Emitted]:
    events = [await outbox.emit(session, estate_id=estate.id, type=EventType.payment_received, entity="payment",
                                entity_id=f"p{i}", data={"amount": "10.00"}) for i in range(n)]
    await session.commit()
    return [Emitted(e.id, e.occurred_at) for e in events]
