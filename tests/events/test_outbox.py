"""The outbox: an event exists exactly when the change that caused it committed."""
from __future__ import annotations

from sqlalchemy import select

from app.domain.events import outbox
from app.domain.events.model import EventType, OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.factories import make_estate
from tests.registry_factories import count_rows


async def endpoint(session, estate, *, types=(), active=True) -> WebhookEndpoint:
    row = WebhookEndpoint(estate_id=estate.id, url="http://127.0.0.1:9/hook", secret="whsec_test",
                          event_types=[t.value for t in types], active=active)
    session.add(row)
    await session.flush()
    return row


async def test_a_rolled_back_change_leaves_no_event_and_no_delivery(session):
    estate = await make_estate(session)
    await endpoint(session, estate)
    await session.commit()
    await outbox.emit(session, estate_id=estate.id, type=EventType.payment_received, entity="payment", entity_id="p1")
    await session.rollback()
    assert await count_rows(session, OutboxEvent) == 0
    assert await count_rows(session, WebhookDelivery) == 0


async def test_a_committed_event_gets_a_delivery_per_interested_endpoint(session):
    estate = await make_estate(session)
    other = await make_estate(session, name="別的小區", code="OT")
    everything = await endpoint(session, estate)
    payments_only = await endpoint(session, estate, types=[EventType.payment_received])
    await endpoint(session, estate, types=[EventType.order_completed])
    await endpoint(session, estate, active=False)
    await endpoint(session, other)
    event = await outbox.emit(session, estate_id=estate.id, type=EventType.payment_received, entity="payment",
                              entity_id="p1", data={"amount": "160.56"})
    await session.commit()
    rows = (await session.execute(select(WebhookDelivery.endpoint_id).where(WebhookDelivery.event_id == event.id))).scalars()
    assert set(rows) == {everything.id, payments_only.id}
    stored = await session.get(OutboxEvent, event.id)
    assert stored.data == {"amount": "160.56"} and stored.seq is not None


async def test_events_are_numbered_in_commit_order(session):
    estate = await make_estate(session)
    first = await outbox.emit(session, estate_id=estate.id, type=EventType.request_registered, entity="r", entity_id="1")
    second = await outbox.emit(session, estate_id=estate.id, type=EventType.order_dispatched, entity="o", entity_id="1")
    await session.commit()
    assert first.seq < second.seq
