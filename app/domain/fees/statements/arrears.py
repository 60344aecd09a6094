"""Arrears ageing (欠费账龄): what units owe, by how long it has been owed.

Ageing counts from the charge's due date, not from its billing month nor from the end of the
late-fee grace period: a charge due today is 0 days old, one due yesterday 1 day. Days are
counted to the estate-local today. Only charges already due are arrears (a charge billed for
a day still ahead is not); late fees are not included (they are computed on read, never
owed as charges). Buckets: 0–30, 31–90, 91–365 and over 365 days.

The sums are done by PostgreSQL (GROUP BY with CASE buckets over the open-charge index), so
an estate of thousands of units is one aggregate query plus one for the page's owner names.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Date, DateTime, bindparam, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.base import by_id_in_estate, utcnow
from app.domain.calendar import estate_time
from app.domain.fees.billing.items import load_estate, load_unit
from app.domain.fees.model import Charge
from app.domain.fees.statements.schemas import EstateArrears, EstateArrearsTotals, UnitArrears
from app.domain.pagination import PageRequest, ordering
from app.domain.registry.model import Building, Estate, Owner, Unit, UnitOwner
from app.domain.registry.names import unit_label
from app.domain.registry.script import Script

ZERO = Decimal("0.00")
BUCKETS = ("days_0_30", "days_31_90", "days_91_365", "days_over_365")
# The last day (inclusive) of each bucket but the open-ended last one.
BUCKET_LIMITS = (30, 90, 365)


# --- the rules, pure ----------------------------------------------------------------------

def days_past_due(due: date, today: date) -> int:
    return (today - due).days


def bucket_of(days: int) -> str | None:
    """The bucket of a charge `days` past its due date; None when it is not yet due."""
    if days < 0:
        return None
    for name, limit in zip(BUCKETS, BUCKET_LIMITS, strict=False):  # the last bucket has no limit
        if days <= limit:
            return name
    return BUCKETS[-1]


def bucket_edges(today: date) -> tuple[date, date, date]:
    """The oldest due date still in 0–30, 31–90 and 91–365 days: today - 30, - 90, - 365."""
    first, second, third = (today - timedelta(days=limit) for limit in BUCKET_LIMITS)
    return first, second, third


def age(items: Iterable[tuple[date, Decimal]], *, today: date) -> dict[str, Decimal]:
    """Outstanding amounts by bucket, in Python: the rule the SQL below must agree with."""
    out = {name: ZERO for name in BUCKETS}
    for due, owed in items:
        name = bucket_of(days_past_due(due, today))
        if name is not None and owed > 0:
            out[name] += owed
    return out


# --- the SQL ------------------------------------------------------------------------------

def _owed() -> Any:
    return Charge.outstanding_sql()


def _aged(today: date, *where: Any, min_age_days: int = 0) -> Any:
    """Per unit: the bucket sums, the total and the oldest unpaid due date.

    Two levels: first GROUP BY unit and CASE bucket (one numeric sum per charge), then the
    few rows per unit are pivoted. Summing once per charge instead of once per bucket is what
    keeps thousands of units fast.
    """
    d30, d90, d365 = bucket_edges(today)
    due = Charge.due_date
    bucket = case((due >= d30, 0), (due >= d90, 1), (due >= d365, 2), else_=3).label("bucket")
    per_bucket = (select(Charge.unit_id, bucket, func.sum(_owed()).label("owed"), func.min(due).label("oldest"))
                  .where(*where, *_in_arrears(today)).group_by(Charge.unit_id, bucket).subquery())
    owed, oldest = per_bucket.c.owed, per_bucket.c.oldest
    sums = [func.coalesce(func.sum(owed).filter(per_bucket.c.bucket == i), 0).label(name) for i, name in enumerate(BUCKETS)]
    stmt = (select(per_bucket.c.unit_id, *sums, func.sum(owed).label("total"), func.min(oldest).label("oldest_due_date"))
            .group_by(per_bucket.c.unit_id))
    if min_age_days > 0:
        stmt = stmt.having(func.min(oldest) <= today - timedelta(days=min_age_days))
    return stmt.subquery()


def _in_arrears(today: date) -> list[Any]:
    return [Charge.is_open(), Charge.due_date <= today]


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


async def _owner_names(session: AsyncSession, unit_ids: list[uuid.UUID], estate_id: uuid.UUID) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {u: [] for u in unit_ids}
    if not unit_ids:
        return out
    stmt = (select(UnitOwner.unit_id, Owner.full_name).join(Owner, by_id_in_estate(Owner, UnitOwner.owner_id, estate_id))
            .where(UnitOwner.unit_id.in_(unit_ids))
            .order_by(UnitOwner.unit_id, UnitOwner.is_primary.desc(), Owner.full_name, Owner.id))
    for unit_id, name in (await session.execute(stmt)).all():
        out[unit_id].append(name)
    return out


def _line(row: Any, owners: dict[uuid.UUID, list[str]], *, script: Script) -> UnitArrears:
    return UnitArrears(
        unit_id=row.unit_id, building_id=row.building_id, building_name=row.building_name,
        unit_label=unit_label(building_number=row.building_number, building_name=row.building_name,
                              entrance=row.entrance, number=row.number, script=script),
        owner_names=owners.get(row.unit_id, []), oldest_due_date=row.oldest_due_date, total=_money(row.total),
        **{name: _money(getattr(row, name)) for name in BUCKETS},
    )


def _with_unit(aged: Any, estate_id: uuid.UUID) -> Any:
    """The aged sums with the unit and building they belong to."""
    return (select(aged, Unit.entrance, Unit.number, Building.id.label("building_id"), Building.name.label("building_name"),
                   Building.number.label("building_number"))
            .join(Unit, by_id_in_estate(Unit, aged.c.unit_id, estate_id))
            .join(Building, by_id_in_estate(Building, Unit.building_id, estate_id)))


# --- reading ------------------------------------------------------------------------------

async def unit_arrears(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, now: datetime | None = None) -> UnitArrears:
    unit = await load_unit(session, actor=actor, unit_id=unit_id)
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    today = estate_time.today(estate, now=now)
    # A row of the query, or a stand-in with the same attributes when the unit owes nothing.
    row: Any = (await session.execute(_with_unit(_aged(today, Charge.unit_id == unit.id), unit.estate_id))).one_or_none()
    if row is None:
        # Nothing owed: the unit's line with zeros.
        building = await session.get(Building, unit.building_id)
        assert building is not None
        row = SimpleNamespace(unit_id=unit.id, entrance=unit.entrance, number=unit.number, building_id=building.id,
                              building_name=building.name, building_number=building.number, total=ZERO,
                              oldest_due_date=None, **{name: ZERO for name in BUCKETS})
    return _line(row, await _owner_names(session, [unit.id], unit.estate_id), script=estate.script)


class ArrearsSort(StrEnum):
    """The keys the arrears list sorts by (unit: building, entrance, room)."""

    total = "total"
    oldest_due_date = "oldest_due_date"
    unit = "unit"


def _order(page: PageRequest, aged: Any) -> list[Any]:
    unit_columns = [Building.number, Building.name, Unit.entrance, Unit.number, Unit.id]
    by_unit = [c.asc().nulls_last() for c in unit_columns]
    sortable = {
        ArrearsSort.total: aged.c.total, ArrearsSort.oldest_due_date: aged.c.oldest_due_date,
        ArrearsSort.unit: unit_columns,
    }
    return ordering(page, sortable=sortable, default=[aged.c.total.desc(), *by_unit] if page.sort is None else by_unit)


async def estate_arrears(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
    building_id: uuid.UUID | None = None, min_age_days: int = 0, now: datetime | None = None,
) -> EstateArrears:
    """Units owing anything, largest debt first; `min_age_days` keeps units whose oldest unpaid
    charge is at least that many days past due."""
    estate = await load_estate(session, actor=actor, estate_id=estate_id)
    today = estate_time.today(estate, now=now)
    where = [Charge.estate_id == estate.id]
    if building_id is not None:
        where.append(Charge.unit_id.in_(select(Unit.id).where(Unit.building_id == building_id)))
    aged = _aged(today, *where, min_age_days=min_age_days)
    # The estate's totals ride along as window sums over every matching unit, before LIMIT.
    overall = [func.count().over().label("units"), *[func.sum(aged.c[n]).over().label(f"all_{n}") for n in (*BUCKETS, "total")]]
    query = _with_unit(aged, estate.id).add_columns(*overall).order_by(*_order(page, aged)).limit(page.limit).offset(page.offset)
    rows = (await session.execute(query)).all()
    if rows:
        units, sums = rows[0].units, {n: _money(getattr(rows[0], f"all_{n}")) for n in (*BUCKETS, "total")}
    else:  # past the last page, or nothing owed: the totals on their own
        summed = select(func.count(), *[func.sum(aged.c[n]) for n in (*BUCKETS, "total")])
        units, *values = (await session.execute(summed)).one()
        sums = {n: _money(v) for n, v in zip((*BUCKETS, "total"), values, strict=True)}
    owners = await _owner_names(session, [r.unit_id for r in rows], estate.id)
    return EstateArrears(estate_id=estate.id, as_of=today, totals=EstateArrearsTotals(units=units, **sums),
                         items=[_line(r, owners, script=estate.script) for r in rows], total=units, limit=page.limit, offset=page.offset)


async def by_unit(session: AsyncSession, *, unit_ids: set[uuid.UUID], now: datetime | None = None,
                  ) -> dict[uuid.UUID, tuple[Decimal, date]]:
    """What each unit owes now and its oldest unpaid due date, in one query across estates.

    Each charge is compared with its own estate's today, worked out by PostgreSQL from the
    estate's time zone, so units of estates in different zones need no query per estate.
    """
    if not unit_ids:
        return {}
    local_now = func.timezone(Estate.time_zone, bindparam("now", now or utcnow(), type_=DateTime(timezone=True)))
    stmt = (select(Charge.unit_id, func.sum(_owed()), func.min(Charge.due_date))
            .join(Estate, Estate.id == Charge.estate_id)
            .where(Charge.unit_id.in_(unit_ids), Charge.is_open(), Charge.due_date <= cast(local_now, Date))
            .group_by(Charge.unit_id))
    return {unit_id: (_money(owed), oldest) for unit_id, owed, oldest in (await session.execute(stmt)).all()}
