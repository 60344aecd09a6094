"""The one audited way to change a work order's state, whoever asks (desk, technician, job)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot
from app.domain.repairs.model import WorkOrder


async def apply(session: AsyncSession, *, actor: Actor, order: WorkOrder, action: str, **kwargs: Any) -> WorkOrder:
    """Call the order's verb `action`, flush, and record before/after in the audit trail.

    The verb checks the transition table and raises IllegalTransition (409) itself.
    """
    before = snapshot(order)
    getattr(order, action)(**kwargs)
    await session.flush()
    await audit.record(session, actor=actor, action=f"work_order.{action}", entity="work_order",
                       entity_id=order.id, estate_id=order.estate_id, before=before, after=snapshot(order))
    return order
