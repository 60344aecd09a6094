"""Service requests (服務登記): intake from the four channels, the read-back, closing at the desk,
and the phone scripts of a call (§7.3.3-7.3.7, §7.3.11)."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.errors import Conflict, Invalid
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.registry.errors import UnitNotInEstate, UnreadablePhone
from app.domain.registry.model import Estate, Owner, Unit, UnitOwner
from app.domain.registry.phones import normalize_phone
from app.domain.registry.service import check_estate
from app.domain.repairs import numbers
from app.domain.repairs.intake import scripts
from app.domain.repairs.intake import settings as repair_settings
from app.domain.repairs.intake.model import ScriptKey
from app.domain.repairs.intake.reading import SERVICE_REQUEST, ServiceRequestNotFound, to_reads
from app.domain.repairs.intake.schemas import (
    PhoneScriptRendered,
    PhoneScriptRenderRequest,
    ServiceRequestCreate,
    ServiceRequestRead,
)
from app.domain.repairs.model import (
    RequestChannel,
    RequestKind,
    RequestStatus,
    ServiceRequest,
    WorkOrder,
    WorkOrderStatus,
)
from app.domain.visibility import load_visible

PATROLS = frozenset({RequestChannel.manager_patrol, RequestChannel.technician_patrol})
CLOSED = frozenset({RequestStatus.closed_at_desk, RequestStatus.cancelled})


class CategoryRequired(Invalid):
    title = "A repair request needs a category"
    title_zh = "报修须选择类别"


class NeedUnitOrLocation(Invalid):
    title = "Give the unit, or the public location, of the request"
    title_zh = "请填写报修的房号或公共区域位置"


class RequestAlreadyClosed(Conflict):
    title = "The service request is already closed"
    title_zh = "该报修单已关闭"


class OrderAlreadyUnderway(Conflict):
    title = "The work order has left the desk; cancel it on the order instead"
    title_zh = "该工单已离开前台；请在工单上取消"


class RequestNotInEstate(Invalid):
    title = "request_id names no service request of this estate"
    title_zh = "request_id 不是本小区的报修单"


# --- intake ----------------------------------------------------------------------------


async def _unit_of_estate(session: AsyncSession, *, estate_id: uuid.UUID, unit_id: uuid.UUID | None) -> Unit | None:
    if unit_id is None:
        return None
    unit = await session.get(Unit, unit_id)
    if unit is None or unit.estate_id != estate_id:
        raise UnitNotInEstate("unit_id names no unit of this estate", field="unit_id")
    return unit


async def _units_of(session: AsyncSession, owner_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in owner_ids}
    for owner_id, unit_id in (
        await session.execute(select(UnitOwner.owner_id, UnitOwner.unit_id).where(UnitOwner.owner_id.in_(owner_ids)))
    ).all():
        out[owner_id].append(unit_id)
    return out


async def _link_owner(
    session: AsyncSession,
    *,
    estate_id: uuid.UUID,
    phone: str | None,
    unit: Unit | None,
    location: str,
) -> tuple[Owner | None, Unit | None]:
    """The owner behind the caller's number, and their unit when they have only one and none was named."""
    if phone is None:
        return None, unit
    owners = await repair_settings.owners_for_phone(session, estate_id=estate_id, phone=phone)
    units = await _units_of(session, [o.id for o in owners]) if owners else {}
    if unit is not None:
        # A family number shared by co-owners: the one who owns the named unit.
        owners = [o for o in owners if unit.id in units[o.id]] or owners
    if len(owners) != 1:
        return None, unit  # nobody, or ambiguous: the desk links by hand
    owner = owners[0]
    # A public location means a repair outside the caller's home: do not guess a unit.
    if unit is None and not location and len(units[owner.id]) == 1:
        unit = await session.get(Unit, units[owner.id][0])
    return owner, unit


def _utc(at: datetime | None) -> datetime | None:
    return at.astimezone(UTC) if at is not None else None


def _normalized(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    phone = normalize_phone(raw)
    if phone is None:
        raise UnreadablePhone(f"cannot read {raw!r} as a phone number", field="contact_phone")
    return phone


async def _category(session: AsyncSession, *, estate_id: uuid.UUID, data: ServiceRequestCreate) -> str:
    if data.category is None:
        if data.kind == RequestKind.repair:
            raise CategoryRequired(field="category")
        return ""
    await repair_settings.check_category(session, estate_id=estate_id, code=data.category)
    return data.category


async def create_request(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: ServiceRequestCreate) -> ServiceRequestRead:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    category = await _category(session, estate_id=estate_id, data=data)
    unit = await _unit_of_estate(session, estate_id=estate_id, unit_id=data.unit_id)
    phone = _normalized(data.contact_phone)
    owner, unit = await _link_owner(session, estate_id=estate_id, phone=phone, unit=unit, location=data.location)
    if unit is None and not data.location:
        raise NeedUnitOrLocation(field="unit_id")
    now = utcnow()
    request = ServiceRequest(
        estate_id=estate_id,
        created_at=now,
        number=await numbers.next_number(session, estate=estate, series=numbers.Series.service_request, at=now),
        kind=data.kind,
        channel=data.channel,
        urgency=data.urgency,
        category=category,
        description=data.description,
        unit_id=unit.id if unit else None,
        owner_id=owner.id if owner else None,
        is_public_area=unit.is_public if unit else True,
        location=data.location,
        contact_name=data.contact_name or (owner.full_name if owner else ""),
        contact_phone=phone or "",
        # Stored and answered in UTC, as they read back from the database.
        window_start=_utc(data.window_start),
        window_end=_utc(data.window_end),
        # §7.3.11: on patrol the staff member relays what they found; otherwise the owner reported it.
        reporter_id=actor.id if data.channel in PATROLS else None,
        registered_by=actor.id,
    )
    session.add(request)
    await session.flush()
    order = None
    if request.kind == RequestKind.repair:
        order = WorkOrder(
            estate_id=estate_id,
            created_at=now,
            number=await numbers.next_number(session, estate=estate, series=numbers.Series.work_order, at=now),
            request_id=request.id,
            category=category,
            unit_id=request.unit_id,
            building_id=unit.building_id if unit else None,
            is_public_area=request.is_public_area,
        )
        session.add(order)
        request.order()  # part of the registration: its entry below shows the request ordered
        await session.flush()
    await audit.record(session, actor=actor, action="create", row=request)
    if order is not None:
        await audit.record(session, actor=actor, action="create", row=order)
    await outbox.emit(
        session,
        estate_id=estate_id,
        type=EventType.request_registered,
        entity="service_request",
        entity_id=request.id,
        data={
            "number": request.number,
            "kind": request.kind,
            "channel": request.channel,
            "unit_id": request.unit_id,
            "order_id": order.id if order else None,
            "order_number": order.number if order else None,
            "category": category,
        },
    )
    return (await to_reads(session, estate=estate, requests=[request]))[0]


async def close_request(session: AsyncSession, *, actor: Actor, request_id: uuid.UUID, note: str) -> ServiceRequestRead:
    """Close at the desk: an enquiry answered, or a repair withdrawn before its order left the desk."""
    request = await load_visible(session, SERVICE_REQUEST, request_id, actor=actor, lock=True)
    if request.status in CLOSED:
        raise RequestAlreadyClosed(current_state=RequestStatus(request.status).value)
    now = utcnow()
    order = (await session.execute(select(WorkOrder).where(WorkOrder.request_id == request.id).with_for_update())).scalar_one_or_none()
    if order is not None:
        if order.status != WorkOrderStatus.pending_dispatch:
            raise OrderAlreadyUnderway(work_order_id=str(order.id), current_state=WorkOrderStatus(order.status).value)
        await audit.apply(session, actor=actor, row=order, action="cancel", reason=note, at=now)
    await audit.apply(session, actor=actor, row=request, action="close_at_desk", note=note, at=now)
    estate = await session.get_one(Estate, request.estate_id)
    return (await to_reads(session, estate=estate, requests=[request]))[0]


# --- the phone scripts of a call -------------------------------------------------------


async def render_script(
    session: AsyncSession,
    *,
    actor: Actor,
    estate_id: uuid.UUID,
    key: ScriptKey,
    data: PhoneScriptRenderRequest,
) -> PhoneScriptRendered:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    values: dict[str, str | None] = {"office_name": estate.office_name}
    if data.request_id is not None:
        try:
            request = await load_visible(session, SERVICE_REQUEST, data.request_id, actor=actor)
        except ServiceRequestNotFound:
            raise RequestNotInEstate(field="request_id") from None
        if request.estate_id != estate_id:
            raise RequestNotInEstate(field="request_id")
        values |= (await repair_settings.request_values(session, estate=estate, requests=[request]))[request.id]
    values |= {k: v for k, v in (await repair_settings.caller_values(session, estate_id=estate_id, data=data)).items() if v}
    if data.technician_id is not None or key is ScriptKey.technician_busy:
        values |= await repair_settings.technician_busy_values(session, estate_id=estate_id, technician_id=data.technician_id,
                                                               now=utcnow())
    template = await repair_settings.template_text(session, estate_id=estate_id, key=key)
    text, missing = scripts.render(key, template, values, script=estate.script)
    return PhoneScriptRendered(key=key, text=text, template=template, missing=missing)


# --- for the caller lookup -------------------------------------------------------------
