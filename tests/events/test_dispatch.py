"""Delivering webhooks to a real local receiver: signatures, retries, giving up, switching off."""
from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.base import utcnow
from app.domain.events import dispatcher
from app.domain.events.model import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.events.receiver import Receiver
from tests.helpers.events import SECRET, Emitted, emit, subscribed


async def delivery(session, event: Emitted) -> WebhookDelivery:
    session.expire_all()
    return (await session.execute(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id))).scalar_one()


async def test_a_committed_event_arrives_signed(app, session):
    with Receiver(secret=SECRET) as receiver:
        estate, _ = await subscribed(session, receiver.url)
        [event] = await emit(session, estate)
        async with httpx.AsyncClient() as http:
            assert await dispatcher.deliver_due(app.state.sessionmaker, client=http) == 1
            assert await dispatcher.deliver_due(app.state.sessionmaker, client=http) == 0
    assert receiver.posts == [{"event_id": str(event.id), "valid": True, "code": 200}]
    body = receiver.events[str(event.id)]
    assert body["type"] == "payment.received" and body["data"] == {"amount": "10.00"} and body["estate_id"] == str(estate.id)
    row = await delivery(session, event)
    assert row.status == DeliveryStatus.delivered and row.attempts == 1 and row.last_status_code == 200


async def test_500s_are_retried_later_and_the_receiver_deduplicates(app, session):
    with Receiver(secret=SECRET, fail_first=2) as receiver:
        estate, _ = await subscribed(session, receiver.url)
        [event] = await emit(session, estate)
        now = utcnow()
        async with httpx.AsyncClient() as http:
            await dispatcher.deliver_due(app.state.sessionmaker, client=http, now=now)
            row = await delivery(session, event)
            assert row.status == DeliveryStatus.pending and row.next_attempt_at == now + timedelta(seconds=30)
            # Not due yet: nothing is sent.
            assert await dispatcher.deliver_due(app.state.sessionmaker, client=http, now=now + timedelta(seconds=29)) == 0
            await dispatcher.deliver_due(app.state.sessionmaker, client=http, now=now + timedelta(seconds=31))
            row = await delivery(session, event)
            assert row.next_attempt_at == now + timedelta(seconds=31 + 60)
            await dispatcher.deliver_due(app.state.sessionmaker, client=http, now=now + timedelta(seconds=95))
    assert [p["code"] for p in receiver.posts] == [500, 500, 200]
    assert {p["event_id"] for p in receiver.posts} == {str(event.id)} and all(p["valid"] for p in receiver.posts)
    assert list(receiver.events) == [str(event.id)]
    row = await delivery(session, event)
    assert row.status == DeliveryStatus.delivered and row.attempts == 3
    log = (await session.execute(select(WebhookAttempt.status_code).where(WebhookAttempt.delivery_id == row.id)
                                 .order_by(WebhookAttempt.at))).scalars().all()
    assert log == [500, 500, 200]


async def test_a_delivery_gives_up_after_the_retry_window_and_the_endpoint_is_switched_off(app, session):
    with Receiver(secret=SECRET, fail_first=10_000) as receiver:
        estate, hook = await subscribed(session, receiver.url)
        hook_id = hook.id
        [event] = await emit(session, estate)
        now = utcnow()
        async with httpx.AsyncClient() as http:
            while (row := await delivery(session, event)).status == DeliveryStatus.pending:
                now = max(now, row.next_attempt_at)
                await dispatcher.deliver_due(app.state.sessionmaker, client=http, now=now)
    assert row.status == DeliveryStatus.failed
    assert now - event.occurred_at >= timedelta(hours=24)
    assert row.attempts == len(receiver.posts) >= 25
    session.expire_all()
    hook = await session.get(WebhookEndpoint, hook_id)
    assert not hook.active and hook.disabled_at is not None and hook.failure_streak >= dispatcher.DISABLE_MIN_STREAK
    alert = (await session.execute(select(AuditEntry).where(AuditEntry.action == dispatcher.WEBHOOK_DISABLED))).scalar_one()
    assert alert.after["alert"] == {"to": "admin"} and "secret" not in alert.after


async def test_an_unreachable_endpoint_is_an_attempt_with_an_error(app, session):
    estate, _ = await subscribed(session, "http://127.0.0.1:9/nothing-listens-here")
    [event] = await emit(session, estate)
    async with httpx.AsyncClient() as http:
        assert await dispatcher.deliver_due(app.state.sessionmaker, client=http) == 1
    row = await delivery(session, event)
    assert row.status == DeliveryStatus.pending and row.last_status_code is None and "Connect" in row.last_error


async def test_a_crash_after_commit_is_delivered_by_the_next_process(app, session, database_url):
    from app.db import make_engine, make_sessionmaker

    with Receiver(secret=SECRET) as receiver:
        estate, _ = await subscribed(session, receiver.url)
        [event] = await emit(session, estate)  # committed; the process "dies" before any dispatch
        engine = make_engine(database_url)  # a new process's engine: nothing shared in memory
        try:
            async with httpx.AsyncClient() as http:
                assert await dispatcher.deliver_due(make_sessionmaker(engine), client=http) == 1
        finally:
            await engine.dispose()
    assert receiver.per_event() == {str(event.id): 1}


async def test_a_switched_off_endpoint_is_in_the_admins_queue(app, session):
    from app.domain.attention import service as attention
    from app.domain.auth import service as auth_service
    from app.domain.auth.roles import Role
    from tests.factories import make_staff

    estate, hook = await subscribed(session, "http://127.0.0.1:9/hook")
    hook.active, hook.disabled_at, hook.disabled_reason = False, utcnow(), "failed 30 attempts in a row since …"
    session.add(hook)
    await session.commit()
    admin = await make_staff(session, estates=[estate], roles=[Role.admin])
    queue = await attention.queue(session, actor=await auth_service.actor_for(session, user=admin.user))
    # The holiday calendar's own item is the admin's too while the next year is not entered (from 1 November).
    assert [i.kind for i in queue.items if i.kind != "holiday_calendar_unconfirmed"] == ["webhook_disabled"]
