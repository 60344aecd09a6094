"""Shared meters: setting one up, and recording a reading as a draft split to be approved (公摊).

Which units count: the private units (not is_public) of the meter's building, or of the whole
estate when it names none; vacant units share too (DOMAIN.md has no rule exempting them, and
the pipes they share are the same). A unit whose billing period (move-in, move-out) has no day
in the reading's month shares nothing that month; one billed part of the month shares in full,
as its charge for the month's water would not be prorated either. A fixed_share meter splits over
the units of its shares, whatever their periods: the shares are an agreement.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import AlreadyExists, Invalid, NotFound
from app.domain.fees.billing import items
from app.domain.fees.billing.rules import CENT
from app.domain.fees.model import FeeItem, FeeKind, MeterReading
from app.domain.fees.prorate import days as prorate
from app.domain.fees.prorate import service as billing_periods
from app.domain.fees.shared_meters import split as rules
from app.domain.fees.shared_meters.model import (
    SharedMeter,
    SharedMeterReading,
    SharedMeterShare,
    SharedMeterSplit,
    SharedMeterSplitLine,
    SplitMethod,
    SplitStatus,
)
from app.domain.fees.shared_meters.schemas import SharedMeterCreate, SharedReadingCreate
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.errors import BuildingNotInEstate
from app.domain.registry.model import Building, Estate, Unit
from app.domain.registry.names import unit_label
from app.domain.visibility import Visible, load_visible


class SharedMeterNotFound(NotFound):
    title = "Shared meter not found"
    title_zh = "未找到该公摊表"


SHARED_METER = Visible(model=SharedMeter, missing=SharedMeterNotFound)


class SharedMeterNameTaken(AlreadyExists):
    title = "The estate already has a shared meter of this name"
    title_zh = "本小区已有同名公摊表"


class UnitMeterItemNotMetered(Invalid):
    title = "unit_meter_item_id names no metered item of this estate"
    title_zh = "unit_meter_item_id 不是本小区的抄表收费项目"


class SharesOnlyForFixedShare(Invalid):
    title = "Shares are given only for a fixed_share meter"
    title_zh = "只有固定比例（fixed_share）公摊表才填写分摊比例"


class ShareUnitNotCounted(Invalid):
    title = "A share names a unit that is not a private unit of the meter's building or estate"
    title_zh = "分摊比例中有房号不是该公摊表所属楼栋或小区的业主房屋"


class SharedMeterInactive(Invalid):
    title = "The shared meter is not active"
    title_zh = "该公摊表未启用"


class SplitAlreadyRecorded(AlreadyExists):
    title = "The meter already has a reading for the period; discard its split before reading it again"
    title_zh = "该表本期已有抄表读数；重新抄表前请先作废其分摊"


class SharedMeterSort(StrEnum):
    """The keys shared meters sort by."""

    name = "name"
    created_at = "created_at"


@dataclass(frozen=True, kw_only=True)
class Counted:
    unit: Unit
    label: str


# --- meters ----------------------------------------------------------------------------

async def _metered_item(session: AsyncSession, *, estate_id: uuid.UUID, item_id: uuid.UUID, error: Invalid) -> FeeItem:
    item = await session.get(FeeItem, item_id)
    if item is None or item.estate_id != estate_id or FeeKind(item.kind) is not FeeKind.metered:
        raise error
    return item


async def counted_units(session: AsyncSession, *, estate: Estate, building_id: uuid.UUID | None) -> list[Counted]:
    """The private units a meter splits over, in the order the office lists them."""
    stmt = (select(Unit, Building).join(Building, Building.id == Unit.building_id)
            .where(Unit.estate_id == estate.id, Unit.is_public.is_(False))
            .order_by(Building.number, Building.name, Unit.entrance, Unit.number, Unit.id))
    if building_id is not None:
        stmt = stmt.where(Unit.building_id == building_id)
    return [Counted(unit=u, label=unit_label(building_name=b.name, building_number=b.number, entrance=u.entrance,
                                             number=u.number, script=estate.script))
            for u, b in (await session.execute(stmt)).all()]


async def _check_targets(session: AsyncSession, *, estate: Estate, data: SharedMeterCreate) -> None:
    if data.building_id is not None:
        building = await session.get(Building, data.building_id)
        if building is None or building.estate_id != estate.id:
            raise BuildingNotInEstate(field="building_id")
    item = await _metered_item(session, estate_id=estate.id, item_id=data.fee_item_id,
                               error=items.NotAMeteredItem(field="fee_item_id"))
    if not item.active:
        raise items.FeeItemInactive(field="fee_item_id")
    if data.unit_meter_item_id is not None:
        await _metered_item(session, estate_id=estate.id, item_id=data.unit_meter_item_id,
                            error=UnitMeterItemNotMetered(field="unit_meter_item_id"))


async def _check_shares(session: AsyncSession, *, estate: Estate, data: SharedMeterCreate) -> None:
    if data.method is not SplitMethod.fixed_share:
        if data.shares:
            raise SharesOnlyForFixedShare(field="shares")
        return
    counted = {c.unit.id for c in await counted_units(session, estate=estate, building_id=data.building_id)}
    named = [s.unit_id for s in data.shares]
    if len(set(named)) != len(named) or not set(named) <= counted:
        raise ShareUnitNotCounted(field="shares")
    rules.check_shares(s.share for s in data.shares)


async def meter_read(session: AsyncSession, meter: SharedMeter) -> dict[str, Any]:
    shares = (await session.execute(select(SharedMeterShare).where(SharedMeterShare.shared_meter_id == meter.id)
                                    .order_by(SharedMeterShare.created_at, SharedMeterShare.id))).scalars().all()
    return {**{k: getattr(meter, k) for k in SharedMeter.model_fields}, "shares": list(shares)}


async def create_meter(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: SharedMeterCreate) -> dict[str, Any]:
    estate = await items.load_estate(session, actor=actor, estate_id=estate_id)
    await _check_targets(session, estate=estate, data=data)
    await _check_shares(session, estate=estate, data=data)
    meter = SharedMeter(estate_id=estate.id, **data.model_dump(exclude={"shares"}))
    session.add(meter)
    await flush_unique(session, SharedMeterNameTaken(field="name"))
    shares = [SharedMeterShare(estate_id=estate.id, shared_meter_id=meter.id, unit_id=s.unit_id, share=s.share)
              for s in data.shares]
    session.add_all(shares)
    await session.flush()
    await audit.record(session, actor=actor, action="shared_meter.create", row=meter,
                       after={**snapshot(meter), "shares": [snapshot(s) for s in shares]})
    return await meter_read(session, meter)


async def list_meters(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID,
                      page: PageRequest) -> tuple[list[dict[str, Any]], int]:
    await items.load_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(SharedMeter).where(SharedMeter.estate_id == estate_id)
    sortable = {SharedMeterSort.name: SharedMeter.name, SharedMeterSort.created_at: SharedMeter.created_at}
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[SharedMeter.name, SharedMeter.id])
    return [await meter_read(session, r) for r in rows], total


# --- readings --------------------------------------------------------------------------

async def _previous(session: AsyncSession, *, meter: SharedMeter, data: SharedReadingCreate) -> Decimal:
    if data.previous is not None:
        return data.previous
    live = select(SharedMeterSplit.reading_id).where(SharedMeterSplit.status != SplitStatus.discarded.value)
    last = (await session.execute(
        select(SharedMeterReading.current).where(
            SharedMeterReading.shared_meter_id == meter.id, SharedMeterReading.period < data.period,
            SharedMeterReading.id.in_(live)).order_by(SharedMeterReading.period.desc()).limit(1))).scalar_one_or_none()
    if last is None:
        raise items.PreviousReadingNeeded(field="previous")
    return last


async def _billed_in(session: AsyncSession, *, estate: Estate, counted: list[Counted], period: str) -> list[Counted]:
    """The counted units billed at least one day of the month (moved out before it, or in after: none)."""
    periods = await billing_periods.periods_of(session, estate.id)
    return [c for c in counted if prorate.month_days(period, periods.get(c.unit.id, (None, None)))[0] > 0]


async def _own_usage(session: AsyncSession, *, meter: SharedMeter, unit_ids: Sequence[uuid.UUID], period: str) -> Decimal:
    if not meter.subtract_unit_meters or not unit_ids:
        return Decimal("0.00")
    used = func.coalesce(func.sum(MeterReading.current - MeterReading.previous), 0)
    stmt = select(used).where(MeterReading.estate_id == meter.estate_id, MeterReading.period == period,
                              MeterReading.fee_item_id == (meter.unit_meter_item_id or meter.fee_item_id),
                              MeterReading.unit_id.in_(unit_ids))
    return Decimal((await session.execute(stmt)).scalar_one()).quantize(CENT)


async def _weights(session: AsyncSession, *, meter: SharedMeter, counted: list[Counted]) -> dict[uuid.UUID, Decimal]:
    if SplitMethod(meter.method) is not SplitMethod.fixed_share:
        return {}
    rows = (await session.execute(select(SharedMeterShare.unit_id, SharedMeterShare.share)
                                  .where(SharedMeterShare.shared_meter_id == meter.id))).all()
    shares = dict(rows)
    # In the office's order of the units, like the other methods.
    return {c.unit.id: shares[c.unit.id] for c in counted if c.unit.id in shares}


async def record_reading(session: AsyncSession, *, actor: Actor, meter_id: uuid.UUID, data: SharedReadingCreate,
                         now: datetime | None = None) -> SharedMeterSplit:
    """Store the reading and its draft split: the per-unit preview a second person approves."""
    meter = await load_visible(session, SHARED_METER, meter_id, actor=actor)
    if not meter.active:
        raise SharedMeterInactive(field="meter_id")
    estate = await session.get_one(Estate, meter.estate_id)
    previous = await _previous(session, meter=meter, data=data)
    if data.current < previous:
        raise items.ReadingBelowPrevious(field="current", previous=str(previous))
    rate = items.price_in_force((await items.prices_of(session, [meter.fee_item_id]))[meter.fee_item_id],
                                estate_time.month_first(data.period))
    if rate is None:
        raise items.NoPriceInForce(field="period")
    counted = await counted_units(session, estate=estate, building_id=meter.building_id)
    shares = await _weights(session, meter=meter, counted=counted)
    if not shares:
        counted = await _billed_in(session, estate=estate, counted=counted, period=data.period)
    unit_ids = list(shares) if shares else [c.unit.id for c in counted]
    own = await _own_usage(session, meter=meter, unit_ids=unit_ids, period=data.period)
    result = rules.split(method=SplitMethod(meter.method), previous=previous, current=data.current, own_usage=own, rate=rate,
                         areas={c.unit.id: c.unit.area for c in counted}, shares=shares)
    return await _store(session, actor=actor, meter=meter, data=data, previous=previous, result=result, now=now or utcnow())


async def _store(session: AsyncSession, *, actor: Actor, meter: SharedMeter, data: SharedReadingCreate,
                 previous: Decimal, result: rules.Split, now: datetime) -> SharedMeterSplit:
    reading = SharedMeterReading(estate_id=meter.estate_id, shared_meter_id=meter.id, period=data.period,
                                 previous=previous.quantize(CENT), current=data.current.quantize(CENT), read_at=now,
                                 read_by=actor.id)
    session.add(reading)
    await session.flush()
    assert actor.id is not None  # fees:configure is a person's permission; keys hold read scopes only
    row = SharedMeterSplit(estate_id=meter.estate_id, shared_meter_id=meter.id, reading_id=reading.id, period=data.period,
                           method=meter.method, meter_usage=result.meter_usage, own_usage=result.own_usage,
                           usage=result.usage, rate=result.rate, total=result.total, factor_total=result.factor_total,
                           recorded_by=actor.id)
    session.add(row)
    await flush_unique(session, SplitAlreadyRecorded(field="period", period=data.period))
    lines = [SharedMeterSplitLine(estate_id=meter.estate_id, split_id=row.id, unit_id=p.unit_id, factor=p.factor,
                                  exact=p.exact, amount=p.amount, adjustment=p.adjustment) for p in result.parts]
    session.add_all(lines)
    await session.flush()
    await audit.record(session, actor=actor, action="shared_meter_split.record", row=row,
                       after={**snapshot(row), "reading": snapshot(reading), "lines": [snapshot(ln) for ln in lines]})
    return row
