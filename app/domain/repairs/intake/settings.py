"""Per-estate repair settings: the categories the desk files requests under and the wording of
the phone scripts, plus gathering what a script says (caller, address, where a technician is)."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, any_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Invalid
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.errors import UnreadablePhone
from app.domain.registry.model import Building, Estate, Owner, OwnerPhone, Unit
from app.domain.registry.names import addressed_as, place
from app.domain.registry.phones import normalize_phone
from app.domain.registry.script import Script, in_script, script_of
from app.domain.registry.service import check_estate
from app.domain.repairs.intake import scripts
from app.domain.repairs.intake.model import RepairCategory, ScriptKey, ScriptTemplate
from app.domain.repairs.intake.schemas import (
    PhoneScriptRead,
    PhoneScriptRenderRequest,
    RepairCategoryWrite,
)
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus

DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("plumbing", "水暖"), ("electrical", "電氣"), ("doors_windows", "門窗"), ("public_area", "公共區域"), ("other", "其他"),
)


class UnknownRepairCategory(Invalid):
    title = "category names no active repair category of this estate"
    title_zh = "category 不是本小区启用的报修类别"


class OwnerNotInEstate(Invalid):
    title = "owner_id names no owner of this estate"
    title_zh = "owner_id 不是本小区的业主"


class TechnicianNotInEstate(Invalid):
    title = "technician_id names no technician of this estate"
    title_zh = "technician_id 不是本小区的维修人员"


# --- categories ------------------------------------------------------------------------

async def ensure_categories(session: AsyncSession, *, estate_id: uuid.UUID) -> None:
    """Give an estate that has set up no categories the five of the procedure, named in its characters."""
    if (await session.execute(select(RepairCategory.id).where(RepairCategory.estate_id == estate_id).limit(1))).first():
        return
    now, script = utcnow(), await script_of(session, estate_id)
    rows = [{"id": uuid.uuid4(), "created_at": now, "estate_id": estate_id, "code": code, "name": in_script(name, script),
             "active": True, "sort": 10 * (i + 1)} for i, (code, name) in enumerate(DEFAULT_CATEGORIES)]
    # Two first requests at once may both seed; the unique key makes the second a no-op.
    await session.execute(pg_insert(RepairCategory).values(rows).on_conflict_do_nothing(index_elements=["estate_id", "code"]))


class RepairCategorySort(StrEnum):
    """The keys repair categories sort by."""

    sort = "sort"
    code = "code"
    name = "name"


async def list_categories(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, active: bool | None,
) -> tuple[list[RepairCategory], int]:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    if estate.closed_at is None:  # reading a closed estate's categories must not seed any
        await ensure_categories(session, estate_id=estate_id)
    stmt = select(RepairCategory).where(RepairCategory.estate_id == estate_id)
    if active is not None:
        stmt = stmt.where(RepairCategory.active == active)
    sortable = {
        RepairCategorySort.sort: RepairCategory.sort, RepairCategorySort.code: RepairCategory.code,
        RepairCategorySort.name: RepairCategory.name,
    }
    return await paginate(session, stmt, page, sortable=sortable, default=[RepairCategory.sort, RepairCategory.code])


async def put_category(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, code: str, data: RepairCategoryWrite,
    expected_version: int | None = None,
) -> RepairCategory:
    await check_estate(session, actor=actor, estate_id=estate_id)
    await ensure_categories(session, estate_id=estate_id)
    row = await versions.load_for_edit(
        session, select(RepairCategory).where(RepairCategory.estate_id == estate_id, RepairCategory.code == code),
        record=versions.key("repair_category", estate_id, code), expected_version=expected_version)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = RepairCategory(estate_id=estate_id, code=code, **data.model_dump())
        session.add(row)
    else:
        row.name, row.active, row.sort = data.name, data.active, data.sort
    await session.flush()
    await audit.record(session, actor=actor, action="create" if before is None else "update", entity="repair_category",
                       entity_id=row.id, estate_id=estate_id, before=before, after=snapshot(row))
    return row


async def check_category(session: AsyncSession, *, estate_id: uuid.UUID, code: str) -> None:
    await ensure_categories(session, estate_id=estate_id)
    stmt = select(RepairCategory.id).where(RepairCategory.estate_id == estate_id, RepairCategory.code == code,
                                           RepairCategory.active.is_(True))
    if (await session.execute(stmt)).first() is None:
        raise UnknownRepairCategory(f"{code!r} is not an active repair category of this estate", field="category")


# --- templates -------------------------------------------------------------------------

async def _templates(session: AsyncSession, *, estate_id: uuid.UUID) -> dict[ScriptKey, ScriptTemplate]:
    rows = (await session.execute(select(ScriptTemplate).where(ScriptTemplate.estate_id == estate_id))).scalars()
    return {ScriptKey(r.key): r for r in rows}


def _script_read(key: ScriptKey, row: ScriptTemplate | None, script: Script) -> PhoneScriptRead:
    # The default wording is shown in the estate's characters; an estate's own, as it was saved.
    return PhoneScriptRead(key=key, text=row.text if row else in_script(scripts.DEFAULT_TEMPLATES[key], script),
                           is_default=row is None, placeholders=sorted(scripts.PLACEHOLDERS[key]),
                           updated_at=row.updated_at if row else None, version=versions.version_of(row))


async def template_text(session: AsyncSession, *, estate_id: uuid.UUID, key: ScriptKey) -> str:
    row = (await _templates(session, estate_id=estate_id)).get(key)
    return row.text if row else in_script(scripts.DEFAULT_TEMPLATES[key], await script_of(session, estate_id))


async def list_scripts(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> list[PhoneScriptRead]:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    rows = await _templates(session, estate_id=estate_id)
    return [_script_read(key, rows.get(key), estate.script) for key in ScriptKey]


async def put_script(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, key: ScriptKey, text: str, expected_version: int | None = None,
) -> PhoneScriptRead:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    scripts.check_template(key, text)
    row = await versions.load_for_edit(
        session, select(ScriptTemplate).where(ScriptTemplate.estate_id == estate_id, ScriptTemplate.key == key),
        record=versions.key("script_template", estate_id, key), expected_version=expected_version)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = ScriptTemplate(estate_id=estate_id, key=key, text=text)
        session.add(row)
    row.text, row.updated_at, row.updated_by = text, utcnow(), actor.id
    await session.flush()
    await audit.record(session, actor=actor, action="create" if before is None else "update", entity="script_template",
                       entity_id=row.id, estate_id=estate_id, before=before, after=snapshot(row))
    return _script_read(key, row, estate.script)


# --- what the scripts say ----------------------------------------------------------------

def caller_of(owner: Owner | None, contact_name: str = "") -> str | None:
    if owner is not None:
        return addressed_as(full_name=owner.full_name, surname=owner.surname, title=owner.title)
    return contact_name or None


async def owners_for_phone(session: AsyncSession, *, estate_id: uuid.UUID, phone: str) -> list[Owner]:
    """The estate's owners listed with this (normalised) number."""
    stmt = (select(Owner).join(OwnerPhone, OwnerPhone.owner_id == Owner.id)
            .where(Owner.estate_id == estate_id, OwnerPhone.phone == phone).order_by(Owner.full_name, Owner.id).limit(10))
    return list((await session.execute(stmt)).scalars().unique())


async def request_values(
    session: AsyncSession, *, estate: Estate, requests: Sequence[ServiceRequest],
) -> dict[uuid.UUID, dict[str, str | None]]:
    """Per request, what the confirmation says: caller, address, description, appointment, phone."""
    unit_ids = {r.unit_id for r in requests if r.unit_id}
    owner_ids = {r.owner_id for r in requests if r.owner_id}
    units: dict[uuid.UUID, Any] = {}
    if unit_ids:
        rows = await session.execute(select(Unit, Building).join(Building, Building.id == Unit.building_id).where(Unit.id.in_(unit_ids)))
        units = {u.id: (u, b) for u, b in rows.all()}
    owners: dict[uuid.UUID | None, Owner] = {
        o.id: o for o in (await session.execute(select(Owner).where(Owner.id.in_(owner_ids)))).scalars()} if owner_ids else {}
    tz = estate_time.estate_zone(estate)
    out = {}
    for r in requests:
        unit, building = units.get(r.unit_id, (None, None)) if r.unit_id else (None, None)
        address = place(unit, building, r.location, script=estate.script)
        out[r.id] = {
            "office_name": estate.office_name, "caller": caller_of(owners.get(r.owner_id), r.contact_name),
            "address": address, "description": r.description, "phone": r.contact_phone, "number": r.number,
            "appointment": scripts.appointment_phrase(r.window_start, r.window_end, tz=tz),
        }
    return out


async def _on_the_job(session: AsyncSession, *, estate_id: uuid.UUID, now: datetime,
                      technician_id: uuid.UUID | None = None) -> list[tuple[uuid.UUID | None, str, str | None]]:
    """(technician, name, building or public location) of the jobs technicians are on now (§7.3.7):
    started, or dispatched for a window covering now; the job he has started first."""
    on_it = WorkOrder.status == WorkOrderStatus.in_progress
    due_now = and_(WorkOrder.status == WorkOrderStatus.dispatched, WorkOrder.scheduled_start <= now, WorkOrder.scheduled_end > now)
    stmt = (
        select(WorkOrder.technician_id, User.full_name, Building.name, ServiceRequest.location)
        .select_from(WorkOrder)
        .join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id)
        .join(User, User.id == WorkOrder.technician_id)
        .outerjoin(Building, Building.id == WorkOrder.building_id)
        .where(WorkOrder.estate_id == estate_id, or_(on_it, due_now))
        .order_by(on_it.desc(), WorkOrder.started_at.desc().nulls_last(), WorkOrder.scheduled_start.desc(),
                  User.full_name, WorkOrder.id)
        .limit(100)
    )
    if technician_id is not None:
        stmt = stmt.where(WorkOrder.technician_id == technician_id)
    return [(tech, name, building or location or None) for tech, name, building, location in (await session.execute(stmt)).all()]


async def technician_busy_values(session: AsyncSession, *, estate_id: uuid.UUID, technician_id: uuid.UUID | None,
                                 now: datetime) -> dict[str, str | None]:
    """Who is busy and where, for the technician_busy script: the named technician, else every
    technician on a job now (the caller wants to hear where the estate's technicians are)."""
    if technician_id is not None:
        name = await check_technician(session, estate_id=estate_id, technician_id=technician_id)
        jobs = await _on_the_job(session, estate_id=estate_id, now=now, technician_id=technician_id)
        return {"technician": name, "building": jobs[0][2] if jobs else None}
    where: dict[uuid.UUID | None, tuple[str, str | None]] = {}
    for tech, name, at in await _on_the_job(session, estate_id=estate_id, now=now):
        where.setdefault(tech, (name, at))
    names = [name for name, _ in where.values()]
    places = list(dict.fromkeys(at for _, at in where.values() if at))
    return {"technician": "、".join(names) or None, "building": "、".join(places) or None}


async def check_technician(session: AsyncSession, *, estate_id: uuid.UUID, technician_id: uuid.UUID) -> str:
    """The technician's name; TechnicianNotInEstate unless he is one of the estate's."""
    stmt = (select(User.full_name).join(UserEstate, UserEstate.user_id == User.id)
            .where(User.id == technician_id, UserEstate.estate_id == estate_id, any_(User.roles) == Role.technician.value))
    name = (await session.execute(stmt)).scalar_one_or_none()
    if name is None:
        raise TechnicianNotInEstate(field="technician_id")
    return name


async def caller_values(session: AsyncSession, *, estate_id: uuid.UUID, data: PhoneScriptRenderRequest) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    if data.phone is not None:
        phone = normalize_phone(data.phone)
        if phone is None:
            raise UnreadablePhone(f"cannot read {data.phone!r} as a phone number", field="phone")
        values["phone"] = phone
        owners = await owners_for_phone(session, estate_id=estate_id, phone=phone)
        if len(owners) == 1:
            values["caller"] = caller_of(owners[0])
    if data.owner_id is not None:
        owner = await session.get(Owner, data.owner_id)
        if owner is None or owner.estate_id != estate_id:
            raise OwnerNotInEstate(field="owner_id")
        values["caller"] = caller_of(owner)
    return values
