"""Sending due owner notifications, several processes side by side (SKIP LOCKED), with retries."""
from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.base import utcnow
from app.domain.events.dispatcher import RETRY_WINDOW, backoff
from app.domain.notifications.gateway import Gateway
from app.domain.notifications.model import NotificationStatus, OwnerNotification


async def send_due(sessionmaker: async_sessionmaker[AsyncSession], *, gateway: Gateway, client: httpx.AsyncClient,
                   now: datetime | None = None, batch: int = 20) -> int:
    now = now or utcnow()
    async with sessionmaker() as session, session.begin():
        stmt = (select(OwnerNotification)
                .where(OwnerNotification.status == NotificationStatus.pending.value, OwnerNotification.next_attempt_at <= now)
                .order_by(OwnerNotification.next_attempt_at, OwnerNotification.id).limit(batch)
                .with_for_update(skip_locked=True))
        rows = list((await session.execute(stmt)).scalars())
        outcomes = await asyncio.gather(*(gateway.send(client, n) for n in rows))
        for n, outcome in zip(rows, outcomes, strict=True):
            n.attempts += 1
            n.gateway, n.last_error = gateway.name, outcome.error
            if outcome.ok:
                n.move("sent")
                n.sent_at = now
            elif now + backoff(n.attempts) - n.created_at > RETRY_WINDOW:
                n.move("give_up")
            else:
                n.move("retry")
                n.next_attempt_at = now + backoff(n.attempts)
    return len(rows)
