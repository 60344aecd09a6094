"""The desk's callbacks (回訪, §7.3.9): the worklist, failed attempts, outcomes, the CS director's resolution."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback, CallbackAttempt, CallbackStatus
from app.domain.callbacks.schemas import (
    AttemptCreate,
    CallbackAttemptRead,
    CallbackDetail,
    CallbackRead,
    ProblemAction,
    ProblemOutcome,
    ResolutionCreate,
    SatisfiedOutcome,
)
from app.domain.errors import NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.registry.model import Building, Estate, Owner, OwnerPhone, Unit, UnitOwner
from app.domain.registry.names import unit_label
from app.domain.repairs.model import ServiceRequest, WorkOrder
from app.domain.visibility import Visible, load_visible


class CallbackNotFound(NotFound):
    title = "Callback not found"
    title_zh = "未找到该回访"


CALLBACK = Visible(model=Callback, missing=CallbackNotFound)


# --- reading ---------------------------------------------------------------------------

def _owner_to_ring() -> Any:
    """The owner named on the request, else the unit's primary owner."""
    unit_owner = (
        select(UnitOwner.owner_id).where(UnitOwner.unit_id == WorkOrder.unit_id)
        .order_by(UnitOwner.is_primary.desc(), UnitOwner.created_at).limit(1).scalar_subquery()
    )
    return func.coalesce(ServiceRequest.owner_id, unit_owner)


async def to_reads(session: AsyncSession, callbacks: Sequence[Callback], *, now: datetime) -> list[CallbackRead]:
    """Callbacks with the order's unit, the owner to ring and the order's state, in one query."""
    if not callbacks:
        return []
    phone = select(func.min(OwnerPhone.phone)).where(OwnerPhone.owner_id == Owner.id).scalar_subquery()
    stmt = (
        select(Callback.id, WorkOrder.number.label("work_order_number"), WorkOrder.status, WorkOrder.unit_id, WorkOrder.category,
               ServiceRequest.location,
               ServiceRequest.contact_name, ServiceRequest.contact_phone, Owner.full_name, phone.label("owner_phone"),
               Unit.entrance, Unit.number, Building.number.label("building_number"), Building.name.label("building_name"),
               Estate.script)
        .join(WorkOrder, WorkOrder.id == Callback.work_order_id)
        .join(Estate, Estate.id == Callback.estate_id)
        .join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id)
        .outerjoin(Unit, Unit.id == WorkOrder.unit_id)
        .outerjoin(Building, Building.id == Unit.building_id)
        .outerjoin(Owner, Owner.id == _owner_to_ring())
        .where(Callback.id.in_([c.id for c in callbacks]))
    )
    extra = {row.id: row for row in (await session.execute(stmt)).all()}
    return [_read(c, extra[c.id], now=now) for c in callbacks]


def _read(c: Callback, x: Any, *, now: datetime) -> CallbackRead:
    label = None
    if x.unit_id is not None:
        label = unit_label(building_number=x.building_number, building_name=x.building_name, entrance=x.entrance, number=x.number,
                           script=x.script)
    # Read the columns, not model_dump: enums come back from the database as text.
    own = {k: getattr(c, k) for k in CallbackRead.model_fields if k in Callback.model_fields}
    return CallbackRead.model_validate({
        **own, "work_order_number": x.work_order_number, "order_status": x.status,
        "unit_id": x.unit_id, "unit_label": label, "location": x.location,
        "category": x.category, "owner_name": x.contact_name or x.full_name or "",
        "owner_phone": x.contact_phone or x.owner_phone or "", "is_overdue": c.is_overdue(now),
        "allowed_actions": c.allowed_actions(),
    })


class CallbackSort(StrEnum):
    """The keys callbacks sort by."""

    due_at = "due_at"
    completed_at = "completed_at"
    status = "status"
    attempts = "attempts"
    done_at = "done_at"


async def list_callbacks(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, status: CallbackStatus | None = None,
    overdue: bool | None = None, due_before: datetime | None = None, technician_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
) -> tuple[list[CallbackRead], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    now = utcnow()
    stmt = select(Callback).where(Callback.estate_id == estate_id)
    if status is not None:
        stmt = stmt.where(Callback.status == status)
    is_overdue = (Callback.status == CallbackStatus.open) & (Callback.due_at < now)
    if overdue is not None:
        stmt = stmt.where(is_overdue if overdue else ~is_overdue)
    if due_before is not None:
        stmt = stmt.where(Callback.due_at < due_before)
    if technician_id is not None:
        stmt = stmt.where(Callback.technician_id == technician_id)
    if unit_id is not None:
        stmt = stmt.where(Callback.work_order_id.in_(select(WorkOrder.id).where(WorkOrder.unit_id == unit_id)))
    sortable = {
        CallbackSort.due_at: Callback.due_at, CallbackSort.completed_at: Callback.completed_at,
        CallbackSort.status: Callback.status, CallbackSort.attempts: Callback.attempts,
        CallbackSort.done_at: Callback.done_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[Callback.due_at, Callback.id])
    return await to_reads(session, rows, now=now), total


async def get_callback(session: AsyncSession, *, actor: Actor, callback_id: uuid.UUID) -> CallbackDetail:
    callback = await load_visible(session, CALLBACK, callback_id, actor=actor)
    return await _detail(session, callback)


async def _detail(session: AsyncSession, callback: Callback) -> CallbackDetail:
    [read] = await to_reads(session, [callback], now=utcnow())
    attempts = (await session.execute(
        select(CallbackAttempt).where(CallbackAttempt.callback_id == callback.id).order_by(CallbackAttempt.at, CallbackAttempt.id)
    )).scalars().all()
    return CallbackDetail(**read.model_dump(), attempt_log=[CallbackAttemptRead.model_validate(a) for a in attempts])


# --- changing --------------------------------------------------------------------------

async def _order(session: AsyncSession, callback: Callback) -> WorkOrder:
    stmt = select(WorkOrder).where(WorkOrder.id == callback.work_order_id).with_for_update()
    return (await session.execute(stmt)).scalar_one()


async def log_attempt(session: AsyncSession, *, actor: Actor, callback_id: uuid.UUID, data: AttemptCreate) -> CallbackDetail:
    callback = await load_visible(session, CALLBACK, callback_id, actor=actor, lock=True)
    await audit.apply(session, actor=actor, row=callback, action="log_attempt", result=data.result, note=data.note,
                      call_again_at=data.call_again_at, by=actor.id, at=utcnow())
    return await _detail(session, callback)


async def record_outcome(
    session: AsyncSession, *, actor: Actor, callback_id: uuid.UUID, data: SatisfiedOutcome | ProblemOutcome,
) -> CallbackDetail:
    """Satisfied: the order's callback closes. Problem: the order is reopened, or the CS director decides."""
    callback = await load_visible(session, CALLBACK, callback_id, actor=actor, lock=True)
    order = await _order(session, callback)
    now = utcnow()
    if isinstance(data, SatisfiedOutcome):
        await audit.apply(session, actor=actor, row=callback, action="record_satisfied", score=data.score, note=data.note,
                          by=actor.id, at=now)
        await audit.apply(session, actor=actor, row=order, action="close_callback", at=now)
    elif data.action == ProblemAction.reopen:
        await audit.apply(session, actor=actor, row=callback, action="record_problem_reopen", note=data.note, by=actor.id, at=now)
        await audit.apply(session, actor=actor, row=order, action="reopen", reason=data.note[:500])
    else:
        await audit.apply(session, actor=actor, row=callback, action="escalate", note=data.note, by=actor.id, at=now)
    return await _detail(session, callback)


async def resolve(session: AsyncSession, *, actor: Actor, callback_id: uuid.UUID, data: ResolutionCreate) -> CallbackDetail:
    """The CS director's resolution of an escalated callback."""
    callback = await load_visible(session, CALLBACK, callback_id, actor=actor, lock=True)
    order = await _order(session, callback)
    now = utcnow()
    await audit.apply(session, actor=actor, row=callback, action="resolve", resolution=data.resolution, reopen=data.reopen,
                      by=actor.id, at=now)
    if data.reopen:
        await audit.apply(session, actor=actor, row=order, action="reopen", reason=data.resolution[:500])
    else:
        await audit.apply(session, actor=actor, row=order, action="close_callback", at=now)
    return await _detail(session, callback)


async def mark_overdue(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, due_before: datetime, at: datetime) -> dict[str, int]:
    """Flag the estate's open callbacks due before `due_before`, each once, with an audit entry."""
    stmt = (
        select(Callback)
        .where(Callback.estate_id == estate_id, Callback.status == CallbackStatus.open, Callback.due_at < due_before)
        .order_by(Callback.due_at, Callback.id)
        .with_for_update()
    )
    callbacks = (await session.execute(stmt)).scalars().all()
    marked = 0
    for callback in callbacks:
        if await audit.apply(session, actor=actor, row=callback, action="mark_overdue", at=at, event_at=at):
            marked += 1
    return {"marked": marked, "open_overdue": len(callbacks)}
