"""Estates, jurisdictions and buildings of the registry. Units: units.py; owners: owners.py."""
from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import any_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm, Role
from app.domain.base import flush_unique, snapshot, utcnow
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import closing
from app.domain.registry.errors import (
    BuildingNameTaken,
    BuildingNotFound,
    EstateCodeTaken,
    EstateNotFound,
    JurisdictionNameTaken,
    JurisdictionNotFound,
    JurisdictionNotInEstate,
    JurisdictionsNeedSupervisor,
    NotAManagerOfEstate,
    OfficeHoursOutOfOrder,
    OwnerNotFound,
    UnitNotFound,
)
from app.domain.registry.model import Building, Estate, Jurisdiction, Owner, Unit
from app.domain.registry.schemas import (
    BuildingCreate,
    BuildingUpdate,
    EstateClose,
    EstateCreate,
    EstateUpdate,
    JurisdictionCreate,
    JurisdictionUpdate,
)
from app.domain.visibility import Visible, load_visible

# The roster's records, as the caller may see them (an estate is its own estate).
ESTATE = Visible(model=Estate, missing=EstateNotFound, estate=Estate.id)
JURISDICTION = Visible(model=Jurisdiction, missing=JurisdictionNotFound)
BUILDING = Visible(model=Building, missing=BuildingNotFound)
UNIT = Visible(model=Unit, missing=UnitNotFound)
OWNER = Visible(model=Owner, missing=OwnerNotFound)

def apply(row: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(row, key, value)


async def check_estate(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> Estate:
    return await load_visible(session, ESTATE, estate_id, actor=actor)


# --- estates ---------------------------------------------------------------------------

def _check_hours(estate: Estate) -> None:
    if not (estate.morning_open < estate.morning_close <= estate.afternoon_open < estate.afternoon_close):
        raise OfficeHoursOutOfOrder(field="morning_open")


async def _check_code_free(session: AsyncSession, *, company_id: uuid.UUID, code: str, exclude: uuid.UUID | None = None) -> None:
    # Receipt numbers are prefixed with the code, so two estates of one company must differ.
    stmt = select(Estate.id).where(Estate.company_id == company_id, func.lower(Estate.code) == code.lower())
    if exclude is not None:
        stmt = stmt.where(Estate.id != exclude)
    if (await session.execute(stmt.limit(1))).first() is not None:
        raise EstateCodeTaken(field="code")


class EstateSort(StrEnum):
    """The keys estates sort by."""

    name = "name"
    code = "code"
    created_at = "created_at"


async def list_estates(session: AsyncSession, *, actor: Actor, page: PageRequest, q: str | None) -> tuple[list[Estate], int]:
    stmt = select(Estate).where(Estate.id.in_(actor.estate_ids))
    if q:
        stmt = stmt.where(Estate.name.ilike(f"%{q}%") | Estate.office_name.ilike(f"%{q}%"))
    sortable = {EstateSort.name: Estate.name, EstateSort.code: Estate.code, EstateSort.created_at: Estate.created_at}
    return await paginate(session, stmt, page, sortable=sortable, default=[Estate.name, Estate.id])


async def create_estate(session: AsyncSession, *, actor: Actor, data: EstateCreate) -> Estate:
    assert actor.company_id is not None, "estates are created by a company's staff"
    estate = Estate(company_id=actor.company_id, **data.model_dump())
    _check_hours(estate)
    await _check_code_free(session, company_id=estate.company_id, code=estate.code)
    session.add(estate)
    await session.flush()
    if actor.id is not None and not actor.is_api_key:
        # The admin who sets up an estate works in it from then on.
        session.add(UserEstate(user_id=actor.id, estate_id=estate.id))
        await session.flush()
    await audit.record(
        session, actor=actor, action="create", entity="estate", entity_id=estate.id, estate_id=estate.id, after=snapshot(estate)
    )
    return estate


async def update_estate(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: EstateUpdate, expected_version: int | None = None,
) -> Estate:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    await versions.check_locked(session, estate, expected_version=expected_version)
    before = snapshot(estate)
    changes = data.model_dump(exclude_unset=True)
    apply(estate, changes)
    _check_hours(estate)
    if "code" in changes:
        await _check_code_free(session, company_id=estate.company_id, code=estate.code, exclude=estate.id)
    await session.flush()
    await audit.record(session, actor=actor, action="update", row=estate, estate_id=estate.id, before=before)
    return estate


async def close_estate(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: EstateClose) -> Estate:
    """Close for good: nothing is deleted, the history stays readable, nothing new is recorded."""
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    await audit.apply(session, actor=actor, row=estate, action="close", reason=data.reason, at=utcnow())
    closing.forget(session.sync_session, estate.id)
    return estate


# --- jurisdictions ---------------------------------------------------------------------


def _check_editor(actor: Actor) -> None:
    if not actor.is_system and not actor.can(Perm.jurisdictions_manage):
        raise JurisdictionsNeedSupervisor()


async def _check_manager(session: AsyncSession, *, estate_id: uuid.UUID, manager_id: uuid.UUID | None) -> None:
    if manager_id is None:
        return
    stmt = (
        select(User.id)
        .join(UserEstate, UserEstate.user_id == User.id)
        .where(User.id == manager_id, UserEstate.estate_id == estate_id, any_(User.roles) == Role.manager.value)
    )
    if (await session.execute(stmt)).first() is None:
        raise NotAManagerOfEstate(field="manager_id")


async def get_jurisdiction(session: AsyncSession, *, actor: Actor, jurisdiction_id: uuid.UUID) -> Jurisdiction:
    return await load_visible(session, JURISDICTION, jurisdiction_id, actor=actor)


class JurisdictionSort(StrEnum):
    """The keys jurisdictions sort by."""

    name = "name"
    created_at = "created_at"


async def list_jurisdictions(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, manager_id: uuid.UUID | None, q: str | None
) -> tuple[list[Jurisdiction], int]:
    await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(Jurisdiction).where(Jurisdiction.estate_id == estate_id)
    if manager_id is not None:
        stmt = stmt.where(Jurisdiction.manager_id == manager_id)
    if q:
        stmt = stmt.where(Jurisdiction.name.ilike(f"%{q}%"))
    sortable = {JurisdictionSort.name: Jurisdiction.name, JurisdictionSort.created_at: Jurisdiction.created_at}
    return await paginate(session, stmt, page, sortable=sortable, default=[Jurisdiction.name, Jurisdiction.id])


async def create_jurisdiction(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: JurisdictionCreate) -> Jurisdiction:
    await check_estate(session, actor=actor, estate_id=estate_id)
    _check_editor(actor)
    await _check_manager(session, estate_id=estate_id, manager_id=data.manager_id)
    row = Jurisdiction(estate_id=estate_id, name=data.name, manager_id=data.manager_id)
    session.add(row)
    await flush_unique(session, JurisdictionNameTaken(field="name"))
    await audit.record(
        session, actor=actor, action="create", entity="jurisdiction", entity_id=row.id, estate_id=estate_id, after=snapshot(row)
    )
    return row


async def update_jurisdiction(
    session: AsyncSession, *, actor: Actor, jurisdiction_id: uuid.UUID, data: JurisdictionUpdate, expected_version: int | None = None,
) -> Jurisdiction:
    row = await get_jurisdiction(session, actor=actor, jurisdiction_id=jurisdiction_id)
    await versions.check_locked(session, row, expected_version=expected_version)
    _check_editor(actor)
    changes = data.model_dump(exclude_unset=True)
    if "manager_id" in changes:
        await _check_manager(session, estate_id=row.estate_id, manager_id=changes["manager_id"])
    before = snapshot(row)
    apply(row, changes)
    await flush_unique(session, JurisdictionNameTaken(field="name"))
    await audit.record(session, actor=actor, action="update", row=row, before=before)
    return row


# --- buildings -------------------------------------------------------------------------


async def _check_jurisdiction(session: AsyncSession, *, estate_id: uuid.UUID, jurisdiction_id: uuid.UUID | None) -> None:
    if jurisdiction_id is None:
        return
    row = await session.get(Jurisdiction, jurisdiction_id)
    if row is None or row.estate_id != estate_id:
        raise JurisdictionNotInEstate(field="jurisdiction_id")


async def get_building(session: AsyncSession, *, actor: Actor, building_id: uuid.UUID) -> Building:
    return await load_visible(session, BUILDING, building_id, actor=actor)


class BuildingSort(StrEnum):
    """The keys buildings sort by."""

    name = "name"
    number = "number"
    created_at = "created_at"


async def list_buildings(
    session: AsyncSession,
    *,
    actor: Actor,
    estate_id: uuid.UUID,
    page: PageRequest,
    jurisdiction_id: uuid.UUID | None,
    q: str | None,
) -> tuple[list[Building], int]:
    await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(Building).where(Building.estate_id == estate_id)
    if jurisdiction_id is not None:
        stmt = stmt.where(Building.jurisdiction_id == jurisdiction_id)
    if q:
        stmt = stmt.where(Building.name.ilike(f"%{q}%"))
    sortable = {
        BuildingSort.name: Building.name,
        BuildingSort.number: Building.number,
        BuildingSort.created_at: Building.created_at,
    }
    return await paginate(session, stmt, page, sortable=sortable, default=[Building.number.asc().nulls_last(), Building.name, Building.id])


async def create_building(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: BuildingCreate) -> Building:
    await check_estate(session, actor=actor, estate_id=estate_id)
    await _check_jurisdiction(session, estate_id=estate_id, jurisdiction_id=data.jurisdiction_id)
    row = Building(estate_id=estate_id, **data.model_dump())
    session.add(row)
    await flush_unique(session, BuildingNameTaken(field="name"))
    await audit.record(session, actor=actor, action="create", entity="building", entity_id=row.id, estate_id=estate_id, after=snapshot(row))
    return row


async def update_building(
    session: AsyncSession, *, actor: Actor, building_id: uuid.UUID, data: BuildingUpdate, expected_version: int | None = None,
) -> Building:
    row = await get_building(session, actor=actor, building_id=building_id)
    await versions.check_locked(session, row, expected_version=expected_version)
    changes = data.model_dump(exclude_unset=True)
    if "jurisdiction_id" in changes:
        await _check_jurisdiction(session, estate_id=row.estate_id, jurisdiction_id=changes["jurisdiction_id"])
    before = snapshot(row)
    apply(row, changes)
    await flush_unique(session, BuildingNameTaken(field="name"))
    await audit.record(session, actor=actor, action="update", row=row, before=before)
    return row
