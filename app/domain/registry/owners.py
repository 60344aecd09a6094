"""Owners with their phones and unit links; an owner may hold several units, a unit several owners."""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import by_id_in_estate, flush_unique, snapshot
from app.domain.registry.errors import (
    PhoneAlreadyListed,
    PhoneNotFound,
    UnitAlreadyLinked,
    UnitNotInEstate,
    UnitNotLinked,
    UnreadablePhone,
)
from app.domain.registry.model import Building, Owner, OwnerPhone, Title, Unit, UnitOwner
from app.domain.registry.names import addressed_as, derive_surname, unit_label
from app.domain.registry.phones import normalize_phone
from app.domain.registry.schemas import OwnerCreate, OwnerPhoneRead, OwnerRead, OwnerUnitRead, OwnerUpdate, UnitLink
from app.domain.registry.script import script_of
from app.domain.registry.service import OWNER, apply, check_estate
from app.domain.visibility import load_visible


async def to_reads(session: AsyncSession, owners: Sequence[Owner]) -> list[OwnerRead]:
    """Owners with phones and units: two queries for the whole page, whatever its size."""
    ids = [o.id for o in owners]
    if not ids:
        return []
    phones: dict[uuid.UUID, list[OwnerPhoneRead]] = defaultdict(list)
    for p in (
        await session.execute(select(OwnerPhone).where(OwnerPhone.owner_id.in_(ids)).order_by(OwnerPhone.created_at, OwnerPhone.id))
    ).scalars():
        phones[p.owner_id].append(OwnerPhoneRead.model_validate(p))
    units: dict[uuid.UUID, list[OwnerUnitRead]] = defaultdict(list)
    estates = {o.estate_id for o in owners}
    stmt = (
        select(UnitOwner, Unit, Building)
        .join(Unit, by_id_in_estate(Unit, UnitOwner.unit_id, estates))
        .join(Building, by_id_in_estate(Building, Unit.building_id, estates))
        .where(UnitOwner.owner_id.in_(ids))
        .order_by(Building.number.asc().nulls_last(), Building.name, Unit.entrance, Unit.number)
    )
    scripts = {e: await script_of(session, e) for e in estates}
    for link, unit, building in (await session.execute(stmt)).all():
        units[link.owner_id].append(
            OwnerUnitRead(
                unit_id=unit.id,
                building_id=building.id,
                building_name=building.name,
                entrance=unit.entrance,
                number=unit.number,
                label=unit_label(building_number=building.number, building_name=building.name, entrance=unit.entrance,
                                 number=unit.number, script=scripts[unit.estate_id]),
                is_primary=link.is_primary,
            )
        )
    return [_read(o, phones[o.id], units[o.id]) for o in owners]


def _read(owner: Owner, phones: list[OwnerPhoneRead], units: list[OwnerUnitRead]) -> OwnerRead:
    return OwnerRead.model_validate(
        {
            **owner.model_dump(exclude={"title"}),
            "title": owner.title,
            "phones": phones,
            "units": units,
            "addressed_as": addressed_as(full_name=owner.full_name, surname=owner.surname, title=owner.title),
        }
    )


async def to_read(session: AsyncSession, owner: Owner) -> OwnerRead:
    return (await to_reads(session, [owner]))[0]


async def get_owner(session: AsyncSession, *, actor: Actor, owner_id: uuid.UUID) -> OwnerRead:
    return await to_read(session, await load_visible(session, OWNER, owner_id, actor=actor))


def _normalized(raw: str, *, field: str) -> str:
    phone = normalize_phone(raw)
    if phone is None:
        raise UnreadablePhone(f"cannot read {raw!r} as a phone number", field=field)
    return phone


async def _check_units(session: AsyncSession, *, estate_id: uuid.UUID, unit_ids: set[uuid.UUID]) -> None:
    if not unit_ids:
        return
    found = set((await session.execute(select(Unit.id).where(Unit.id.in_(unit_ids), Unit.estate_id == estate_id))).scalars())
    missing = unit_ids - found
    if missing:
        raise UnitNotInEstate(field="unit_id", unit_ids=sorted(str(u) for u in missing))


def _title(value: Title | str | None) -> Title | None:
    return Title(value) if value is not None else None


async def create_owner(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: OwnerCreate) -> OwnerRead:
    await check_estate(session, actor=actor, estate_id=estate_id)
    # Every phone is read before anything is written, so a bad one leaves nothing behind.
    phones: dict[str, str] = {}
    for i, raw in enumerate(data.phones):
        phones.setdefault(_normalized(raw, field=f"phones.{i}"), raw)
    links: dict[uuid.UUID, UnitLink] = {}
    for link in data.units:
        links.setdefault(link.unit_id, link)
    await _check_units(session, estate_id=estate_id, unit_ids=set(links))
    owner = Owner(
        estate_id=estate_id,
        full_name=data.full_name,
        surname=data.surname or derive_surname(data.full_name),
        title=_title(data.title),
        note=data.note,
    )
    session.add(owner)
    await session.flush()
    session.add_all([OwnerPhone(estate_id=estate_id, owner_id=owner.id, phone=p, raw=raw) for p, raw in phones.items()])
    session.add_all([UnitOwner(estate_id=estate_id, owner_id=owner.id, unit_id=u, is_primary=link.is_primary) for u, link in links.items()])
    await session.flush()
    after = {**snapshot(owner), "phones": list(phones), "unit_ids": list(links)}
    await audit.record(session, actor=actor, action="create", entity="owner", entity_id=owner.id, estate_id=estate_id, after=after)
    return await to_read(session, owner)


async def update_owner(
    session: AsyncSession, *, actor: Actor, owner_id: uuid.UUID, data: OwnerUpdate, expected_version: int | None = None,
) -> OwnerRead:
    owner = await load_visible(session, OWNER, owner_id, actor=actor, expected_version=expected_version)
    before = snapshot(owner)
    changes = data.model_dump(exclude_unset=True)
    if "title" in changes:
        changes["title"] = _title(data.title)
    if "full_name" in changes and "surname" not in changes:
        changes["surname"] = derive_surname(changes["full_name"])
    apply(owner, changes)
    await session.flush()
    await audit.record(session, actor=actor, action="update", row=owner, before=before)
    return await to_read(session, owner)


async def _touch(session: AsyncSession, owner: Owner) -> None:
    """An owner's phones are part of the owner: a new version (ETag), and a changed row for the
    technicians' sync, which reads what changed from the rows themselves."""
    versions.touch(owner, "note")
    await session.flush()


async def _touch_link(session: AsyncSession, owner: Owner, unit_id: uuid.UUID) -> None:
    """A link names both ends: the unit's list of owners changed too."""
    unit = await session.get(Unit, unit_id)
    if unit is not None:
        versions.touch(unit, "note")
    await _touch(session, owner)


async def link_unit(session: AsyncSession, *, actor: Actor, owner_id: uuid.UUID, data: UnitLink) -> OwnerRead:
    owner = await load_visible(session, OWNER, owner_id, actor=actor)
    await _check_units(session, estate_id=owner.estate_id, unit_ids={data.unit_id})
    link = UnitOwner(estate_id=owner.estate_id, owner_id=owner.id, unit_id=data.unit_id, is_primary=data.is_primary)
    session.add(link)
    await flush_unique(session, UnitAlreadyLinked(field="unit_id"))
    await _touch_link(session, owner, data.unit_id)
    await audit.record(
        session, actor=actor, action="link_unit", entity="owner", entity_id=owner.id, estate_id=owner.estate_id, after=snapshot(link)
    )
    return await to_read(session, owner)


async def unlink_unit(session: AsyncSession, *, actor: Actor, owner_id: uuid.UUID, unit_id: uuid.UUID) -> OwnerRead:
    owner = await load_visible(session, OWNER, owner_id, actor=actor)
    link = (
        await session.execute(select(UnitOwner).where(UnitOwner.owner_id == owner.id, UnitOwner.unit_id == unit_id))
    ).scalar_one_or_none()
    if link is None:
        raise UnitNotLinked()
    before = snapshot(link)
    await session.execute(delete(UnitOwner).where(UnitOwner.id == link.id))
    await _touch_link(session, owner, unit_id)
    await audit.record(
        session, actor=actor, action="unlink_unit", entity="owner", entity_id=owner.id, estate_id=owner.estate_id, before=before
    )
    return await to_read(session, owner)


async def add_phone(session: AsyncSession, *, actor: Actor, owner_id: uuid.UUID, raw: str) -> OwnerRead:
    owner = await load_visible(session, OWNER, owner_id, actor=actor)
    row = OwnerPhone(estate_id=owner.estate_id, owner_id=owner.id, phone=_normalized(raw, field="phone"), raw=raw)
    session.add(row)
    await flush_unique(session, PhoneAlreadyListed(field="phone"))
    await _touch(session, owner)
    await audit.record(
        session, actor=actor, action="add_phone", entity="owner", entity_id=owner.id, estate_id=owner.estate_id, after=snapshot(row)
    )
    return await to_read(session, owner)


async def remove_phone(session: AsyncSession, *, actor: Actor, owner_id: uuid.UUID, phone_id: uuid.UUID) -> OwnerRead:
    owner = await load_visible(session, OWNER, owner_id, actor=actor)
    row = await session.get(OwnerPhone, phone_id)
    if row is None or row.owner_id != owner.id:
        raise PhoneNotFound()
    before = snapshot(row)
    await session.delete(row)
    await _touch(session, owner)
    await audit.record(
        session, actor=actor, action="remove_phone", entity="owner", entity_id=owner.id, estate_id=owner.estate_id, before=before
    )
    return await to_read(session, owner)
