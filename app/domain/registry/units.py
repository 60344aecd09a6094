"""Units (rooms) of the registry's buildings."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, snapshot
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.errors import BuildingNotInEstate, UnitNumberTaken
from app.domain.registry.model import Building, Estate, Unit
from app.domain.registry.names import unit_label
from app.domain.registry.schemas import UnitCreate, UnitRead, UnitUpdate
from app.domain.registry.script import Script, script_of
from app.domain.registry.service import UNIT, apply, check_estate
from app.domain.visibility import load_visible


def to_read(unit: Unit, building: Building, *, script: Script) -> UnitRead:
    label = unit_label(building_number=building.number, building_name=building.name, entrance=unit.entrance, number=unit.number,
                       script=script)
    return UnitRead.model_validate({**unit.model_dump(), "building_name": building.name, "label": label})


async def to_reads(session: AsyncSession, units: Sequence[Unit], *, script: Script) -> list[UnitRead]:
    ids = {u.building_id for u in units}
    buildings = {b.id: b for b in (await session.execute(select(Building).where(Building.id.in_(ids)))).scalars()} if ids else {}
    return [to_read(u, buildings[u.building_id], script=script) for u in units]


async def labels_of(session: AsyncSession, unit_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The label of each unit, in its estate's characters: one query however many units."""
    if not unit_ids:
        return {}
    stmt = (select(Unit.id, Building.number, Building.name, Unit.entrance, Unit.number, Estate.script)
            .join(Building, Building.id == Unit.building_id).join(Estate, Estate.id == Unit.estate_id)
            .where(Unit.id.in_(unit_ids)))
    return {uid: unit_label(building_number=bn, building_name=bname, entrance=ent, number=num, script=script)
            for uid, bn, bname, ent, num, script in (await session.execute(stmt)).all()}


async def _unit_and_building(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID) -> tuple[Unit, Building]:
    unit = await load_visible(session, UNIT, unit_id, actor=actor)
    building = await session.get(Building, unit.building_id)
    assert building is not None  # a unit's building is a foreign key
    return unit, building


async def get_unit(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID) -> UnitRead:
    unit, building = await _unit_and_building(session, actor=actor, unit_id=unit_id)
    return to_read(unit, building, script=await script_of(session, unit.estate_id))


class UnitSort(StrEnum):
    """The keys units sort by."""

    number = "number"
    floor = "floor"
    area = "area"
    entrance = "entrance"
    created_at = "created_at"


async def list_units(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, building_id: uuid.UUID | None,
    is_vacant: bool | None, is_public: bool | None, floor: int | None, q: str | None,
) -> tuple[list[UnitRead], int]:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(Unit).join(Building, Building.id == Unit.building_id).where(Unit.estate_id == estate_id)
    filters = [(Unit.building_id, building_id), (Unit.is_vacant, is_vacant), (Unit.is_public, is_public), (Unit.floor, floor)]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if q:
        stmt = stmt.where(Unit.number.ilike(f"%{q}%"))
    sortable = {
        UnitSort.number: Unit.number, UnitSort.floor: Unit.floor, UnitSort.area: Unit.area,
        UnitSort.entrance: Unit.entrance, UnitSort.created_at: Unit.created_at,
    }
    # Rooms are text ("301", "1201"): shorter first keeps them in numeric order.
    default = [Building.number.asc().nulls_last(), Building.name, Unit.entrance, func.length(Unit.number), Unit.number, Unit.id]
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=default)
    return await to_reads(session, rows, script=estate.script), total


async def _building_of_estate(session: AsyncSession, *, estate_id: uuid.UUID, building_id: uuid.UUID) -> Building:
    building = await session.get(Building, building_id)
    if building is None or building.estate_id != estate_id:
        raise BuildingNotInEstate(field="building_id")
    return building


async def create_unit(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: UnitCreate) -> UnitRead:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    building = await _building_of_estate(session, estate_id=estate_id, building_id=data.building_id)
    unit = Unit(estate_id=estate_id, **data.model_dump())
    session.add(unit)
    await flush_unique(session, UnitNumberTaken(field="number"))
    await audit.record(session, actor=actor, action="create", entity="unit", entity_id=unit.id, estate_id=estate_id, after=snapshot(unit))
    return to_read(unit, building, script=estate.script)


async def update_unit(
    session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: UnitUpdate, expected_version: int | None = None,
) -> UnitRead:
    unit, building = await _unit_and_building(session, actor=actor, unit_id=unit_id)
    await versions.check_locked(session, unit, expected_version=expected_version)
    before = snapshot(unit)
    apply(unit, data.model_dump(exclude_unset=True))
    await flush_unique(session, UnitNumberTaken(field="number"))
    await audit.record(session, actor=actor, action="update", row=unit, before=before)
    return to_read(unit, building, script=await script_of(session, unit.estate_id))
