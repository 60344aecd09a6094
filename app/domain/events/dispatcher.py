"""Sending what the outbox holds: signed POSTs, retries with backoff, and the delivery log.

Each pass claims due deliveries with `FOR UPDATE SKIP LOCKED` and keeps the row locks while
it sends, so several app processes can dispatch side by side and none sends a delivery
another is sending. The outcome is committed with the claim; a crash mid-pass rolls the
claim back and the delivery is simply due again (at-least-once).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.audit import service as audit
from app.domain.auth.principal import system_actor
from app.domain.base import utcnow
from app.domain.events import egress, signing
from app.domain.events.model import DeliveryStatus, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.domain.events.outbox import envelope

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
# Retries go on for at least a day: a receiver down over a night and a morning still gets it.
RETRY_WINDOW = timedelta(hours=25)
# An endpoint failing every attempt for a day is switched off, and the admins are told.
DISABLE_AFTER = timedelta(hours=24)
DISABLE_MIN_STREAK = 10
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
WEBHOOK_DISABLED = "webhook.disabled"

log = logging.getLogger("propdesk.webhooks")


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at an hour: about 30 attempts in the first day."""
    doublings: int = 2 ** max(attempts - 1, 0)
    return min(BASE_DELAY * doublings, MAX_DELAY)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def body_of(event: OutboxEvent) -> bytes:
    return json.dumps(envelope(event), ensure_ascii=False, separators=(",", ":")).encode()


async def send(client: httpx.AsyncClient, endpoint: WebhookEndpoint, event: OutboxEvent) -> Outcome:
    body = body_of(event)
    headers = {
        "Content-Type": "application/json", "User-Agent": "PropDesk-Webhooks/1",
        signing.SIGNATURE_HEADER: signing.signature(endpoint.secret, timestamp=int(time.time()), body=body),
        signing.EVENT_ID_HEADER: str(event.id), signing.EVENT_TYPE_HEADER: event.type,
    }
    started = time.perf_counter()
    try:
        response = await client.post(endpoint.url, content=body, headers=headers, timeout=TIMEOUT)
        code, error = response.status_code, "" if response.is_success else response.text[:200]
    except httpx.HTTPError as exc:
        code, error = None, f"{type(exc).__name__}: {exc}"[:500]
    return Outcome(status_code=code, error=error, duration_ms=int((time.perf_counter() - started) * 1000))


async def _disable(session: AsyncSession, endpoint: WebhookEndpoint, *, now: datetime) -> None:
    before = audit.audit_snapshot(endpoint)
    endpoint.active, endpoint.disabled_at = False, now
    endpoint.disabled_reason = f"failed {endpoint.failure_streak} attempts in a row since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
    await audit.record(session, actor=system_actor("webhooks"), action=WEBHOOK_DISABLED, row=endpoint, before=before,
                       after={**audit.audit_snapshot(endpoint), "alert": {"to": "admin"}})


async def record(session: AsyncSession, delivery: WebhookDelivery, endpoint: WebhookEndpoint, outcome: Outcome,
                 *, now: datetime) -> None:
    session.add(WebhookAttempt(delivery_id=delivery.id, at=now, status_code=outcome.status_code,
                               error=outcome.error, duration_ms=outcome.duration_ms))
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = outcome.status_code, outcome.error
    if outcome.ok:
        delivery.move("succeed")
        delivery.delivered_at = now
        endpoint.failure_streak, endpoint.failing_since = 0, None
        return
    due = now + backoff(delivery.attempts)
    if due - delivery.retry_from > RETRY_WINDOW:
        delivery.move("give_up")
    else:
        delivery.move("retry")
        delivery.next_attempt_at = due
    endpoint.failure_streak += 1
    endpoint.failing_since = endpoint.failing_since or now
    if endpoint.active and endpoint.failure_streak >= DISABLE_MIN_STREAK and now - endpoint.failing_since >= DISABLE_AFTER:
        await _disable(session, endpoint, now=now)


async def deliver_due(sessionmaker: async_sessionmaker[AsyncSession], *, client: httpx.AsyncClient,
                      now: datetime | None = None, batch: int = 20) -> int:
    """One pass: send up to `batch` due deliveries concurrently. Returns how many were tried."""
    now = now or utcnow()
    async with sessionmaker() as session, session.begin():
        stmt = (select(WebhookDelivery, WebhookEndpoint, OutboxEvent)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.status == DeliveryStatus.pending.value, WebhookDelivery.next_attempt_at <= now,
                       WebhookEndpoint.active.is_(True))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(batch)
                .with_for_update(of=WebhookDelivery, skip_locked=True))
        rows = (await session.execute(stmt)).all()
        outcomes = await asyncio.gather(*(send(client, endpoint, event) for _, endpoint, event in rows))
        for (delivery, endpoint, _), outcome in zip(rows, outcomes, strict=True):
            await record(session, delivery, endpoint, outcome, now=now)
    return len(rows)


async def run_forever(sessionmaker: async_sessionmaker[AsyncSession], *, stop: asyncio.Event, gateway: Any,
                      interval: float = 2.0, webhook_networks: Sequence[egress.IPNetwork] = ()) -> None:
    """The dispatcher loop (`propdesk scheduler`, `propdesk dispatcher`, or `serve` with its clock):
    webhooks, then owner messages. Any number may run at once: each pass claims with SKIP LOCKED."""
    from app.domain.notifications.sender import send_due

    # Webhook URLs are typed by estate admins: their client reaches only allowed addresses. The
    # notification bridge is the operator's own setting and may well live on this machine.
    async with egress.guarded_client(webhook_networks) as hooks_client, httpx.AsyncClient() as client:
        while not stop.is_set():
            try:
                hooks = await deliver_due(sessionmaker, client=hooks_client)
                messages = await send_due(sessionmaker, gateway=gateway, client=client)
            except Exception:
                log.exception("webhook dispatch pass failed")
                hooks = messages = 0
            if hooks or messages:
                log.info("dispatch pass tried %d webhook deliveries, %d owner notifications", hooks, messages)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
