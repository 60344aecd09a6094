"""Notes for the callback: the technician writes them (from the field, perhaps queued offline), the desk reads them."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.repairs.orders import field
from app.domain.repairs.orders.notes_model import WorkOrderNote
from app.domain.repairs.orders.reading import load_order, load_own_order
from app.domain.repairs.orders.schemas import NoteCreate, NoteRead


async def add_note(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: NoteCreate,
                   device_time: datetime | None = None) -> NoteRead:
    """Only the order's technician, on his order (a reassigned or cancelled one answers its conflict)."""
    order = await load_own_order(session, actor=actor, order_id=order_id)
    now = utcnow()
    field.check_device_time(order, device_time, now=now)
    assert actor.id is not None  # load_own_order lets only the order's technician through
    note = WorkOrderNote(estate_id=order.estate_id, work_order_id=order.id, author_id=actor.id, text=data.text,
                         noted_at=now, noted_on_device_at=device_time)
    session.add(note)
    await session.flush()
    await audit.record(session, actor=actor, action="create", entity="work_order_note", entity_id=note.id,
                       estate_id=note.estate_id, after=snapshot(note))
    return NoteRead.model_validate(note)


async def list_notes(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID) -> list[NoteRead]:
    """The order's notes, oldest first (a technician reads only his own orders')."""
    order = await load_order(session, actor=actor, order_id=order_id)
    rows = (await session.execute(select(WorkOrderNote).where(WorkOrderNote.work_order_id == order.id)
                                  .order_by(WorkOrderNote.noted_at, WorkOrderNote.id))).scalars()
    return [NoteRead.model_validate(n) for n in rows]
