"""Morning (§7.3.1): check yesterday's unfinished tasks and arrange them.

Statuses are today's: the list answers "what, registered before the start of `date`, is
still unfinished", which is what the desk acts on at 8:00.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.callbacks.model import Callback, CallbackStatus
from app.domain.registry import service as registry
from app.domain.registry.model import Building, Unit
from app.domain.registry.names import place
from app.domain.registry.script import script_of
from app.domain.repairs.model import OPEN_ORDER_STATES, RequestStatus, ServiceRequest, WorkOrder
from app.domain.repairs.paperwork.schemas import MorningCallback, MorningOrder, MorningReport, MorningRequest


def _hours(since: datetime, until: datetime) -> int:
    return max(0, int((until - since).total_seconds() // 3600))


async def morning(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date | None) -> MorningReport:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    day = day or estate_time.today(estate)
    as_of = estate_time.day_start(day, estate_time.estate_zone(estate))
    return MorningReport(
        estate_id=estate.id, date=day, as_of=as_of,
        requests=await _open_requests(session, estate_id=estate.id, as_of=as_of),
        orders=await _open_orders(session, estate_id=estate.id, as_of=as_of),
        callbacks=await _open_callbacks(session, estate_id=estate.id, as_of=as_of),
    )


async def _open_requests(session: AsyncSession, *, estate_id: uuid.UUID, as_of: datetime) -> list[MorningRequest]:
    stmt = (
        select(ServiceRequest, Unit, Building)
        .outerjoin(Unit, Unit.id == ServiceRequest.unit_id).outerjoin(Building, Building.id == Unit.building_id)
        .where(ServiceRequest.estate_id == estate_id, ServiceRequest.status == RequestStatus.open.value,
               ServiceRequest.created_at < as_of)
        .order_by(ServiceRequest.created_at, ServiceRequest.id)
    )
    script = await script_of(session, estate_id)
    return [
        MorningRequest(id=r.id, number=r.number, created_at=r.created_at,
                       kind=r.kind, channel=r.channel, urgency=r.urgency, category=r.category,
                       description=r.description, place=place(u, b, r.location, script=script), contact_name=r.contact_name,
                       contact_phone=r.contact_phone, age_hours=_hours(r.created_at, as_of))
        for r, u, b in (await session.execute(stmt)).all()
    ]


async def _open_orders(session: AsyncSession, *, estate_id: uuid.UUID, as_of: datetime) -> list[MorningOrder]:
    stmt = (
        select(WorkOrder, ServiceRequest, Unit, Building, User.full_name)
        .join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id)
        .outerjoin(Unit, Unit.id == WorkOrder.unit_id).outerjoin(Building, Building.id == Unit.building_id)
        .outerjoin(User, User.id == WorkOrder.technician_id)
        .where(WorkOrder.estate_id == estate_id, WorkOrder.status.in_([s.value for s in OPEN_ORDER_STATES]),
               WorkOrder.created_at < as_of)
        .order_by(WorkOrder.created_at, WorkOrder.id)
    )
    script = await script_of(session, estate_id)
    out = []
    for o, r, u, b, tech in (await session.execute(stmt)).all():
        hours = _hours(o.created_at, as_of)
        out.append(MorningOrder(id=o.id, number=o.number, request_id=r.id, request_number=r.number, status=o.status,
                                category=o.category, description=r.description,
                                place=place(u, b, r.location, script=script), technician_id=o.technician_id, technician_name=tech,
                                created_at=o.created_at, scheduled_start=o.scheduled_start, age_hours=hours, age_days=hours // 24))
    return out


async def _open_callbacks(session: AsyncSession, *, estate_id: uuid.UUID, as_of: datetime) -> list[MorningCallback]:
    order = aliased(WorkOrder)
    request = aliased(ServiceRequest)
    stmt = (
        select(Callback, order.number, request.location, Unit, Building)
        .join(order, order.id == Callback.work_order_id).join(request, request.id == order.request_id)
        .outerjoin(Unit, Unit.id == order.unit_id).outerjoin(Building, Building.id == Unit.building_id)
        .where(Callback.estate_id == estate_id, Callback.status == CallbackStatus.open.value, Callback.completed_at < as_of)
        # Overdue first: the earliest due is the most overdue.
        .order_by(Callback.due_at, Callback.id)
    )
    script = await script_of(session, estate_id)
    return [
        MorningCallback(id=c.id, work_order_id=c.work_order_id, work_order_number=number, place=place(u, b, loc, script=script),
                        technician_id=c.technician_id,
                        completed_at=c.completed_at, due_at=c.due_at, overdue=c.due_at < as_of, attempts=c.attempts,
                        call_again_at=c.call_again_at)
        for c, number, loc, u, b in (await session.execute(stmt)).all()
    ]
