"""The one audited way to change a work order's state, whoever asks (desk, technician, job)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.repairs.model import WorkOrder

# The verbs integrations and the desk's screens hear about.
EVENTS = {"dispatch": EventType.order_dispatched, "confirm": EventType.order_time_confirmed,
          "complete": EventType.order_completed}


async def apply(session: AsyncSession, *, actor: Actor, order: WorkOrder, action: str, **kwargs: Any) -> WorkOrder:
    """Call the order's verb `action`, flush, and record before/after in the audit trail.

    The verb checks the transition table and raises IllegalTransition (409) itself.
    """
    before = snapshot(order)
    getattr(order, action)(**kwargs)
    await session.flush()
    await audit.record(session, actor=actor, action=f"work_order.{action}", entity="work_order",
                       entity_id=order.id, estate_id=order.estate_id, before=before, after=snapshot(order))
    if action in EVENTS:
        await outbox.emit(session, estate_id=order.estate_id, type=EVENTS[action], entity="work_order", entity_id=order.id,
                          data={"request_id": order.request_id, "unit_id": order.unit_id, "status": order.status,
                                "technician_id": order.technician_id, "start": order.scheduled_start,
                                "end": order.scheduled_end, "completed_at": order.completed_at})
    return order
