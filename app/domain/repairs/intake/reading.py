"""Reading service requests: who sees which (a technician: those he reported or answers), one
request, the estate's register, and the open requests of a caller's units for the caller lookup."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import jsonable
from app.domain.errors import NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.model import Estate
from app.domain.registry.service import check_estate
from app.domain.repairs import numbers
from app.domain.repairs.intake import scripts
from app.domain.repairs.intake import settings as repair_settings
from app.domain.repairs.intake.model import ScriptKey
from app.domain.repairs.intake.schemas import ServiceRequestRead
from app.domain.repairs.model import (
    OPEN_ORDER_STATES,
    RequestChannel,
    RequestKind,
    RequestStatus,
    ServiceRequest,
    WorkOrder,
)
from app.domain.visibility import Visible, load_visible

PATROLS = frozenset({RequestChannel.manager_patrol, RequestChannel.technician_patrol})
CLOSED = frozenset({RequestStatus.closed_at_desk, RequestStatus.cancelled})


class ServiceRequestNotFound(NotFound):
    title = "Service request not found"
    title_zh = "未找到该报修单"


def _technician_only(actor: Actor) -> bool:
    # Technicians see the requests they reported and those their orders answer; anyone
    # with an office role besides sees the estate's register.
    return not actor.is_system and bool(actor.roles) and actor.roles <= {Role.technician}


def _visible_to(actor: Actor) -> Any:
    mine = select(WorkOrder.request_id).where(WorkOrder.technician_id == actor.id)
    return or_(ServiceRequest.reporter_id == actor.id, ServiceRequest.id.in_(mine))


SERVICE_REQUEST = Visible(model=ServiceRequest, missing=ServiceRequestNotFound,
                          narrow=lambda actor: _visible_to(actor) if _technician_only(actor) else None)


async def to_reads(session: AsyncSession, *, estate: Estate, requests: Sequence[ServiceRequest]) -> list[ServiceRequestRead]:
    ids = [r.id for r in requests]
    orders = (
        {o.request_id: o for o in (await session.execute(select(WorkOrder).where(WorkOrder.request_id.in_(ids)))).scalars()} if ids else {}
    )
    values = await repair_settings.request_values(session, estate=estate, requests=requests)
    template = await repair_settings.template_text(session, estate_id=estate.id, key=ScriptKey.confirmation)
    out = []
    for r in requests:
        order = orders.get(r.id)
        out.append(
            ServiceRequestRead.model_validate(
                {
                    **{c.key: getattr(r, c.key) for c in ServiceRequest.__table__.columns},
                    "work_order_id": order.id if order else None,
                    "work_order_number": order.number if order else None,
                    "work_order_status": order.status if order else None,
                    "read_back": scripts.render(ScriptKey.confirmation, template, values[r.id], script=estate.script)[0],
                }
            )
        )
    return out


async def get_request(session: AsyncSession, *, actor: Actor, request_id: uuid.UUID) -> ServiceRequestRead:
    request = await load_visible(session, SERVICE_REQUEST, request_id, actor=actor)
    estate = await session.get_one(Estate, request.estate_id)
    return (await to_reads(session, estate=estate, requests=[request]))[0]


class ServiceRequestSort(StrEnum):
    """The keys service requests sort by."""

    created_at = "created_at"
    number = "number"
    window_start = "window_start"
    urgency = "urgency"
    status = "status"
    category = "category"


async def list_requests(
    session: AsyncSession,
    *,
    actor: Actor,
    estate_id: uuid.UUID,
    page: PageRequest,
    status: RequestStatus | None = None,
    kind: RequestKind | None = None,
    channel: RequestChannel | None = None,
    category: str | None = None,
    unit_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    q: str | None = None,
    number: str | None = None,
) -> tuple[list[ServiceRequestRead], int]:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(ServiceRequest).where(ServiceRequest.estate_id == estate_id)
    if _technician_only(actor):
        stmt = stmt.where(_visible_to(actor))
    equal = [
        (ServiceRequest.status, status),
        (ServiceRequest.kind, kind),
        (ServiceRequest.channel, channel),
        (ServiceRequest.category, category),
        (ServiceRequest.unit_id, unit_id),
        (ServiceRequest.owner_id, owner_id),
    ]
    for column, value in equal:
        if value is not None:
            stmt = stmt.where(column == value)
    if created_from is not None:
        stmt = stmt.where(ServiceRequest.created_at >= created_from)
    if created_to is not None:
        stmt = stmt.where(ServiceRequest.created_at < created_to)
    if q:
        stmt = stmt.where(ServiceRequest.description.ilike(f"%{q}%"))
    if number:
        stmt = stmt.where(numbers.matches(ServiceRequest.number, number))
    sortable = {
        ServiceRequestSort.created_at: ServiceRequest.created_at,
        ServiceRequestSort.number: ServiceRequest.number,
        ServiceRequestSort.window_start: ServiceRequest.window_start,
        ServiceRequestSort.urgency: ServiceRequest.urgency,
        ServiceRequestSort.status: ServiceRequest.status,
        ServiceRequestSort.category: ServiceRequest.category,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[ServiceRequest.created_at.desc(), ServiceRequest.id])
    return await to_reads(session, estate=estate, requests=rows), total




async def open_for_owners(
    session: AsyncSession, *, units_by_owner: dict[uuid.UUID, set[uuid.UUID]]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Per owner, the open requests they reported or that concern their units, newest first."""
    out: dict[uuid.UUID, list[dict[str, Any]]] = {o: [] for o in units_by_owner}
    if not units_by_owner:
        return out
    unit_ids = set().union(*units_by_owner.values())
    live = [s.value for s in OPEN_ORDER_STATES]
    stmt = (
        select(ServiceRequest, WorkOrder)
        .outerjoin(WorkOrder, WorkOrder.request_id == ServiceRequest.id)
        .where(
            or_(ServiceRequest.owner_id.in_(units_by_owner), ServiceRequest.unit_id.in_(unit_ids)),
            or_(
                ServiceRequest.status == RequestStatus.open.value,
                and_(ServiceRequest.status == RequestStatus.ordered.value, WorkOrder.status.in_(live)),
            ),
        )
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id)
        .limit(500)
    )
    # Outer-joined: a request not yet ordered comes with no work order.
    rows: Sequence[tuple[ServiceRequest, WorkOrder | None]] = (await session.execute(stmt)).tuples().all()
    for request, order in rows:
        item = jsonable(
            {
                "id": request.id,
                "number": request.number,
                "kind": request.kind,
                "category": request.category,
                "description": request.description,
                "status": request.status,
                "unit_id": request.unit_id,
                "created_at": request.created_at,
                "window_start": request.window_start,
                "window_end": request.window_end,
                "work_order_id": order.id if order else None,
                "work_order_number": order.number if order else None,
                "work_order_status": order.status if order else None,
            }
        )
        for owner_id, units in units_by_owner.items():
            if request.owner_id == owner_id or request.unit_id in units:
                out[owner_id].append(item)
    return out
