"""Seed helpers for the roster: buildings, units, owners (with phones and units), jurisdictions.

Plain async functions with keyword defaults; each commits so the app sees what it made.
Other areas' tests and the demo loader can reuse them.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.model import User
from app.domain.registry.model import Building, Estate, Jurisdiction, Owner, OwnerPhone, Title, Unit, UnitOwner
from app.domain.registry.names import derive_surname
from app.domain.registry.phones import normalize_phone

_seq = itertools.count(1)


async def make_jurisdiction(
    session: AsyncSession, *, estate: Estate, name: str | None = None, manager: User | None = None,
) -> Jurisdiction:
    row = Jurisdiction(estate_id=estate.id, name=name or f"轄區{next(_seq)}", manager_id=manager.id if manager else None)
    session.add(row)
    await session.commit()
    return row


async def make_building(
    session: AsyncSession, *, estate: Estate, number: int | None = None, name: str | None = None,
    jurisdiction: Jurisdiction | None = None,
) -> Building:
    number = number if number is not None else 100 + next(_seq)
    row = Building(estate_id=estate.id, name=name or f"{number}号楼", number=number,
                   jurisdiction_id=jurisdiction.id if jurisdiction else None)
    session.add(row)
    await session.commit()
    return row


async def make_unit(
    session: AsyncSession, *, building: Building, number: str | None = None, entrance: str = "1", floor: int | None = None,
    area: Decimal | str = Decimal("89.20"), is_public: bool = False, is_vacant: bool = False,
) -> Unit:
    number = number or str(100 + next(_seq))
    if floor is None and number.isdigit() and len(number) >= 3:
        floor = int(number[:-2])
    row = Unit(estate_id=building.estate_id, building_id=building.id, entrance=entrance, number=number, floor=floor,
               area=Decimal(area), is_public=is_public, is_vacant=is_vacant)
    session.add(row)
    await session.commit()
    return row


async def make_owner(
    session: AsyncSession, *, estate: Estate, full_name: str = "王建國", title: Title | None = None,
    phones: Sequence[str] = (), units: Sequence[Unit] = (), is_primary: bool = True,
) -> Owner:
    """An owner; phones as typed (normalised here as the API does), linked to the given units."""
    owner = Owner(estate_id=estate.id, full_name=full_name, surname=derive_surname(full_name),
                  title=title.value if title else None)
    session.add(owner)
    await session.flush()
    for raw in phones:
        phone = normalize_phone(raw)
        assert phone is not None, f"make_owner: unreadable phone {raw!r}"
        session.add(OwnerPhone(estate_id=estate.id, owner_id=owner.id, phone=phone, raw=raw))
    for unit in units:
        session.add(UnitOwner(estate_id=estate.id, unit_id=unit.id, owner_id=owner.id, is_primary=is_primary))
    await session.commit()
    return owner


async def count_rows(session: AsyncSession, model: type, *where: object) -> int:
    """How many rows of a table (matching `where`): the 'nothing written' check of a refused request."""
    from sqlalchemy import func, select

    return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def two_estates(session: AsyncSession) -> tuple[Estate, Estate]:
    """The caller's estate and another estate of the same company, whose records must stay invisible."""
    from tests.factories import make_company, make_estate

    company = await make_company(session)
    return await make_estate(session, company=company), await make_estate(session, company=company)
