"""Reading work orders: one order with what can be done next, the estate's list, the task sheet."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import by_id_in_estate, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry
from app.domain.registry.model import Building, Estate, Unit
from app.domain.registry.names import place
from app.domain.registry.script import Script, in_script, script_of
from app.domain.repairs import numbers
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.orders import field
from app.domain.repairs.orders.schedule_model import Booking, ReplyPromise
from app.domain.repairs.orders.schemas import (
    MaterialLine,
    ReplyPromiseRead,
    RequestSummary,
    TaskSheet,
    WorkOrderDetail,
    WorkOrderRead,
)
from app.domain.repairs.orders.technicians import booking_read
from app.domain.visibility import Visible, load_visible, own

MATERIAL_LINES = 5


class WorkOrderNotFound(NotFound):
    title = "Work order not found"
    title_zh = "未找到该工单"


def only_technician(actor: Actor) -> bool:
    """A technician and nothing more sees only the orders given to him."""
    return not actor.is_system and actor.roles == frozenset({Role.technician})


WORK_ORDER = Visible(model=WorkOrder, missing=WorkOrderNotFound,
                     narrow=lambda actor: own(WorkOrder.technician_id, actor) if only_technician(actor) else None)


def _label(unit: Unit | None, building: Building | None, script: Script) -> str | None:
    return place(unit, building, script=script) if unit is not None and building is not None else None


async def load_order(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, lock: bool = False) -> WorkOrder:
    """The order when the actor may see it; a technician only his own. Others: 404."""
    return await load_visible(session, WORK_ORDER, order_id, actor=actor, lock=lock)


async def load_own_order(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID) -> WorkOrder:
    """For the technician's own verbs: an order assigned to someone else does not exist for him,
    unless it was his and was taken from him meanwhile (reassigned, released, reopened), which
    is a conflict that says so; his order cancelled meanwhile is one too."""
    # Read by estate alone, not WORK_ORDER's narrowing to his own orders: that would hide the
    # order he held, and he must hear why his queued work on it is refused.
    stmt = select(WorkOrder).where(WorkOrder.id == order_id, _in_estates(actor))
    order = (await session.execute(stmt.with_for_update().execution_options(populate_existing=True))).scalar_one_or_none()
    if order is None:
        raise WorkOrderNotFound()
    if order.technician_id != actor.id:
        await field.refuse_lost_order(session, order=order, actor=actor)
        raise WorkOrderNotFound()
    field.refuse_cancelled(order)
    return order


def _in_estates(actor: Actor) -> ColumnElement[bool]:
    return true() if actor.is_system else WorkOrder.estate_id.in_(sorted(actor.estate_ids))


async def _unit_and_building(session: AsyncSession, order: WorkOrder) -> tuple[Unit | None, Building | None]:
    unit = await session.get(Unit, order.unit_id) if order.unit_id else None
    building_id = unit.building_id if unit else order.building_id
    return unit, (await session.get(Building, building_id) if building_id else None)


async def open_promise(session: AsyncSession, *, order_id: uuid.UUID) -> ReplyPromise | None:
    return (await session.execute(
        select(ReplyPromise).where(ReplyPromise.work_order_id == order_id, ReplyPromise.closed_at.is_(None))
        .order_by(ReplyPromise.created_at.desc()).limit(1)
    )).scalar_one_or_none()


def promise_read(p: ReplyPromise, *, now: datetime, **extra: object) -> ReplyPromiseRead:
    return ReplyPromiseRead.model_validate({**p.model_dump(exclude={"status"}), "overdue": p.is_overdue(now), **extra})


async def order_detail(session: AsyncSession, *, order: WorkOrder) -> WorkOrderDetail:
    request = await session.get(ServiceRequest, order.request_id)
    assert request is not None
    unit, building = await _unit_and_building(session, order)
    booking = (await session.execute(select(Booking).where(Booking.work_order_id == order.id, Booking.active.is_(True))
                                     )).scalar_one_or_none()
    tech = await session.get(User, order.technician_id) if order.technician_id else None
    promise = await open_promise(session, order_id=order.id)
    summary = RequestSummary.model_validate(request, from_attributes=True)
    label = _label(unit, building, await script_of(session, order.estate_id))
    return WorkOrderDetail.model_validate({
        **WorkOrderRead.model_validate(order).model_dump(),
        "unit_label": label, "urgency": request.urgency, "description": request.description,
        "request_number": request.number, "allowed_actions": order.allowed_actions(), "request": summary,
        "technician_name": tech.full_name if tech else None,
        "booking": booking_read(booking) if booking else None,
        "reply_promise": promise_read(promise, now=utcnow()) if promise else None,
    })


async def get_order(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID) -> WorkOrderDetail:
    return await order_detail(session, order=await load_order(session, actor=actor, order_id=order_id))


class WorkOrderSort(StrEnum):
    """The keys work orders sort by."""

    created_at = "created_at"
    number = "number"
    scheduled_start = "scheduled_start"
    status = "status"
    category = "category"
    completed_at = "completed_at"


async def list_orders(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
    status: list[WorkOrderStatus] | None = None, technician_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None,
    category: str | None = None, created_from: datetime | None = None, created_to: datetime | None = None,
    scheduled_from: datetime | None = None, scheduled_to: datetime | None = None, number: str | None = None,
) -> tuple[list[WorkOrderRead], int]:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    # The request joins by its unique id only, which keeps the row estimate right, so the
    # newest-first page walks ix_work_order_estate_created and decorates just that page.
    stmt = (select(WorkOrder, ServiceRequest, Unit, Building)
                    .join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id)
                    .outerjoin(Unit, by_id_in_estate(Unit, WorkOrder.unit_id, estate_id))
                    .outerjoin(Building, by_id_in_estate(Building, Unit.building_id, estate_id))
                    .where(WorkOrder.estate_id == estate_id))
    if only_technician(actor):
        stmt = stmt.where(WorkOrder.technician_id == actor.id)
    if status:
        stmt = stmt.where(WorkOrder.status.in_([s.value for s in status]))
    for column, value in [(WorkOrder.technician_id, technician_id), (WorkOrder.unit_id, unit_id), (WorkOrder.category, category)]:
        if value is not None:
            stmt = stmt.where(column == value)
    for moment, low, high in [(WorkOrder.created_at, created_from, created_to), (WorkOrder.scheduled_start, scheduled_from, scheduled_to)]:
        if low is not None:
            stmt = stmt.where(moment >= low)
        if high is not None:
            stmt = stmt.where(moment < high)
    if number:
        # The whole number of its request finds the order too: the caller was read the request's.
        found = numbers.matches(WorkOrder.number, number)
        stmt = stmt.where(found | numbers.matches(ServiceRequest.number, number) if numbers.is_whole(number) else found)
    sortable = {
        WorkOrderSort.created_at: WorkOrder.created_at, WorkOrderSort.number: WorkOrder.number,
        WorkOrderSort.scheduled_start: WorkOrder.scheduled_start,
        WorkOrderSort.status: WorkOrder.status, WorkOrderSort.category: WorkOrder.category,
        WorkOrderSort.completed_at: WorkOrder.completed_at,
    }
    # Each row carries the request, unit and building too.
    rows, total = await paginate(session, stmt, page, sortable=sortable,
                                 default=[WorkOrder.created_at.desc(), WorkOrder.id], scalars=False)
    items = [WorkOrderRead.model_validate({**WorkOrderRead.model_validate(o).model_dump(), "unit_label": _label(u, b, estate.script),
                                           "urgency": r.urgency, "description": r.description, "request_number": r.number})
             for o, r, u, b in rows]
    return items, total


def _local(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else None


async def task_sheet(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID) -> TaskSheet:
    order = await load_order(session, actor=actor, order_id=order_id)
    estate = await session.get(Estate, order.estate_id)
    request = await session.get(ServiceRequest, order.request_id)
    assert estate is not None and request is not None
    unit, building = await _unit_and_building(session, order)
    tech = await session.get(User, order.technician_id) if order.technician_id else None
    tz = estate_time.estate_zone(estate)
    start, end = _local(order.scheduled_start, tz), _local(order.scheduled_end, tz)
    window = None
    if start and end:
        window = f"{start}–{end[11:]}" if start[:10] == end[:10] else f"{start}–{end}"
    return TaskSheet(
        office_name=estate.office_name, order_id=order.id, number=order.number, request_number=request.number,
        status=order.status, issued_at=order.dispatched_at or order.created_at,
        description=request.description, category=order.category, urgency=request.urgency,
        unit_label=_label(unit, building, estate.script),
        location=in_script(request.location or (building.name if building else ""), estate.script),
        contact_name=request.contact_name, contact_phone=request.contact_phone, time_zone=estate.time_zone,
        scheduled_start_local=start, scheduled_end_local=end, scheduled_window=window,
        technician_name=tech.full_name if tech else None, materials=[MaterialLine() for _ in range(MATERIAL_LINES)],
    )
