"""Finding owners: by the phone a caller rings from, by name fragment, by unit as the desk types it."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ColumnElement, ColumnExpressionArgument, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.fees.statements import arrears
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import owners as owner_service
from app.domain.registry.errors import UnreadablePhone, UnreadableUnitRef
from app.domain.registry.model import Building, Owner, OwnerPhone, Unit, UnitOwner
from app.domain.registry.names import UnitRef, parse_unit_ref
from app.domain.registry.phones import normalize_phone
from app.domain.registry.schemas import CallerArrears, CallerLookup, CallerOwner, OwnerRead, UnitArrearsBrief
from app.domain.registry.service import check_estate
from app.domain.repairs.intake import reading as repair_requests

# More than this many owners behind one number is a switchboard, not a caller.
MAX_CALLER_MATCHES = 50


def _digits_of(column: ColumnExpressionArgument[str]) -> ColumnElement[str]:
    return func.ltrim(func.regexp_replace(column, r"\D", "", "g"), "0")


def _owners_of_unit(ref: UnitRef) -> ColumnElement[bool]:
    building = or_(Building.number == int(ref.building), _digits_of(Building.name) == ref.building.lstrip("0"))
    units = (
        select(UnitOwner.owner_id)
        .join(Unit, Unit.id == UnitOwner.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(building, func.upper(Unit.number) == ref.room)
    )
    if ref.entrance is not None:
        units = units.where(_digits_of(Unit.entrance) == ref.entrance.lstrip("0"))
    return Owner.id.in_(units)


class OwnerSort(StrEnum):
    """The keys owners sort by."""

    full_name = "full_name"
    surname = "surname"
    created_at = "created_at"


async def list_owners(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, q: str | None, unit: str | None,
    building_id: uuid.UUID | None,
) -> tuple[list[OwnerRead], int]:
    await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(Owner).where(Owner.estate_id == estate_id)
    if q:
        stmt = stmt.where(Owner.full_name.ilike(f"%{q}%"))
    if unit:
        ref = parse_unit_ref(unit)
        if ref is None:
            raise UnreadableUnitRef(f"cannot read {unit!r} as a unit", field="unit")
        stmt = stmt.where(_owners_of_unit(ref))
    if building_id is not None:
        in_building = select(UnitOwner.owner_id).join(Unit, Unit.id == UnitOwner.unit_id).where(Unit.building_id == building_id)
        stmt = stmt.where(Owner.id.in_(in_building))
    sortable = {
        OwnerSort.full_name: Owner.full_name, OwnerSort.surname: Owner.surname, OwnerSort.created_at: Owner.created_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[Owner.full_name, Owner.id])
    return await owner_service.to_reads(session, rows), total


def _phone_matches(phone: str) -> ColumnElement[bool]:
    candidates = {phone}
    if phone.startswith("0") and len(phone) >= 10:
        # Typed with the area code, kept in the roster without it.
        candidates |= {phone[-8:], phone[-7:]}
    match: ColumnElement[bool] = OwnerPhone.phone.in_(candidates)
    if len(phone) <= 8:
        # Typed without the area code, kept with it.
        match = match | (OwnerPhone.phone.like(f"0%{phone}") & (func.length(OwnerPhone.phone) <= len(phone) + 4))
    return match


async def find_callers(session: AsyncSession, *, actor: Actor, phone: str, estate_id: uuid.UUID | None) -> CallerLookup:
    """Everything the desk needs on one screen when the phone rings."""
    if estate_id is not None:
        await check_estate(session, actor=actor, estate_id=estate_id)
    scope = [estate_id] if estate_id is not None else sorted(actor.estate_ids)
    return await lookup_callers(session, scope=scope, phone=phone, with_arrears=actor.can(Perm.fees_read))


async def lookup_callers(session: AsyncSession, *, scope: list[uuid.UUID], phone: str, with_arrears: bool) -> CallerLookup:
    """The owners of `scope` (estates the caller's actor may see) behind this number."""
    normalized = normalize_phone(phone)
    if normalized is None:
        raise UnreadablePhone(f"cannot read {phone!r} as a phone number", field="phone")
    matching = select(OwnerPhone.owner_id).where(_phone_matches(normalized), OwnerPhone.estate_id.in_(scope))
    stmt = (
        select(Owner).where(Owner.id.in_(matching), Owner.estate_id.in_(scope))
        .order_by(Owner.full_name, Owner.id).limit(MAX_CALLER_MATCHES)
    )
    owners = list((await session.execute(stmt)).scalars())
    reads = await owner_service.to_reads(session, owners)
    units_by_owner = {r.id: {u.unit_id for u in r.units} for r in reads}
    open_requests = await repair_requests.open_for_owners(session, units_by_owner=units_by_owner)
    owed = await arrears.by_unit(session, unit_ids=set().union(*units_by_owner.values())) if with_arrears else None
    return CallerLookup(phone=normalized, owners=[
        CallerOwner.model_validate({**r.model_dump(), "open_requests": open_requests[r.id], "arrears": _arrears(r, owed)})
        for r in reads
    ])


def _arrears(owner: OwnerRead, owed: dict[uuid.UUID, tuple[Decimal, date]] | None) -> CallerArrears | None:
    """The owner's share of `owed` (per unit: outstanding, oldest due date); None for a role without fees."""
    if owed is None:
        return None
    units = [UnitArrearsBrief(unit_id=u.unit_id, label=u.label, outstanding=owed[u.unit_id][0],
                              oldest_due_date=owed[u.unit_id][1]) for u in owner.units if u.unit_id in owed]
    return CallerArrears(total=sum((u.outstanding for u in units), Decimal("0.00")), units=units,
                         oldest_due_date=min((u.oldest_due_date for u in units), default=None))
