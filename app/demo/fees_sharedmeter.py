"""The demo's shared water meter (公摊水费): the first estate's first building has a building
meter, split by area after the units' own water meters are taken off, for the last three
months, read on the 5th of the next month. Approved the next day by the supervisor (not the
finance clerk who recorded it) and billed the day after; in the first days of a month the
latest reading may still be a draft or wait to be billed.

The figures come from the same pure split the service uses, and each charge's basis from the
same `splits.basis`, so the bill explanation reads the demo's shares as it reads real ones.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.fees.billing import rules as billing
from app.domain.fees.model import Charge, ChargeSource, FeeItem, FeeKind, FeePrice, MeterReading
from app.domain.fees.shared_meters import split as rules
from app.domain.fees.shared_meters import splits
from app.domain.fees.shared_meters.model import (
    SharedMeter,
    SharedMeterReading,
    SharedMeterSplit,
    SharedMeterSplitLine,
    SplitMethod,
    SplitStatus,
)
from app.domain.registry.model import Building, Estate, Unit

if TYPE_CHECKING:
    from app.demo import DemoContext

MONTHS = 3
PRICE = Decimal("3.45")


async def shared_meter_history(ctx: DemoContext) -> None:
    estate = ctx.estates[0]
    code = estate.code.lower()
    users = {u.username: u for u in ctx.users}
    recorder, approver = users[f"{code}.finance"], users[f"{code}.supervisor"]
    building = (await ctx.session.execute(select(Building).where(Building.estate_id == estate.id)
                                          .order_by(Building.number, Building.name).limit(1))).scalar_one()
    units = sorted((u for u in ctx.units if u.building_id == building.id and not u.is_public),
                   key=lambda u: (u.entrance, u.number, u.id))
    water = (await ctx.session.execute(select(FeeItem).where(FeeItem.estate_id == estate.id,
                                                             FeeItem.code == "water"))).scalar_one()
    tz = estate_time.estate_zone(estate)
    this_month = estate_time.first_of_month(estate_time.today(estate))
    months = [estate_time.month_key(estate_time.add_months(this_month, i - MONTHS)) for i in range(MONTHS)]
    item = FeeItem(estate_id=estate.id, code="shared_water", name="公摊水费", kind=FeeKind.metered, unit_label="元/吨",
                   applies_to_all=False, due_day=water.due_day)
    ctx.add("fee_items", [item])
    await ctx.session.flush()
    ctx.add("fee_prices", [FeePrice(estate_id=estate.id, fee_item_id=item.id, unit_price=PRICE,
                                    effective_from=estate_time.month_first(months[0]))])
    meter = SharedMeter(estate_id=estate.id, name=f"{building.name}总水表", building_id=building.id, fee_item_id=item.id,
                        method=SplitMethod.area, subtract_unit_meters=True, unit_meter_item_id=water.id)
    ctx.add("shared_meters", [meter])
    await ctx.session.flush()
    rng = random.Random(ctx.rng.random())
    current = Decimal(rng.randint(20000, 40000))
    for month in months:
        own = await _own_usage(ctx, estate=estate, units=units, item=water, month=month)
        # The building meter also counts the stairwell taps, the cleaning and what the pipes lose.
        previous, current = current, current + own + Decimal(rng.randint(40, 120))
        # Read on the 5th, once the units' own meters (read on the 2nd to 4th) are in.
        read_day = estate_time.add_months(estate_time.month_first(month), 1) + timedelta(days=4)
        at = datetime.combine(read_day, time(10, rng.randrange(60)), tzinfo=tz)
        result = rules.split(method=SplitMethod.area, previous=previous, current=current, own_usage=own, rate=PRICE,
                             areas={u.id: u.area for u in units}, shares={})
        await _month(ctx, estate=estate, meter=meter, item=item, month=month, at=at, previous=previous, current=current,
                     result=result, recorder=recorder.id, approver=approver.id)


async def _own_usage(ctx: DemoContext, *, estate: Estate, units: list[Unit], item: FeeItem, month: str) -> Decimal:
    used = func.coalesce(func.sum(MeterReading.current - MeterReading.previous), 0)
    stmt = select(used).where(MeterReading.estate_id == estate.id, MeterReading.fee_item_id == item.id,
                              MeterReading.period == month, MeterReading.unit_id.in_([u.id for u in units]))
    return Decimal((await ctx.session.execute(stmt)).scalar_one()).quantize(billing.CENT)


def _status(at: datetime, now: datetime) -> tuple[SplitStatus, datetime, datetime]:
    """Approved the next morning, billed the morning after; what has not happened yet by now waits."""
    approved, billed = at + timedelta(days=1), at + timedelta(days=2)
    status = SplitStatus.billed if billed <= now else SplitStatus.approved if approved <= now else SplitStatus.draft
    return status, approved, billed


async def _month(ctx: DemoContext, *, estate: Estate, meter: SharedMeter, item: FeeItem, month: str, at: datetime,
                 previous: Decimal, current: Decimal, result: rules.Split, recorder: uuid.UUID,
                 approver: uuid.UUID) -> None:
    now = utcnow()
    if at > now:
        return
    status, approved, billed = _status(at, now)
    reading = SharedMeterReading(estate_id=estate.id, shared_meter_id=meter.id, period=month, created_at=at,
                                 previous=previous, current=current, read_at=at, read_by=recorder)
    split = SharedMeterSplit(
        estate_id=estate.id, shared_meter_id=meter.id, reading_id=reading.id, period=month, status=status,
        method=SplitMethod.area, meter_usage=result.meter_usage, own_usage=result.own_usage, usage=result.usage,
        rate=result.rate, total=result.total, factor_total=result.factor_total, recorded_by=recorder, created_at=at,
        approved_by=approver if status is not SplitStatus.draft else None,
        approved_at=approved if status is not SplitStatus.draft else None,
        billed_at=billed if status is SplitStatus.billed else None)
    lines = [SharedMeterSplitLine(estate_id=estate.id, split_id=split.id, unit_id=p.unit_id, factor=p.factor, exact=p.exact,
                                  amount=p.amount, adjustment=p.adjustment, created_at=at) for p in result.parts]
    ctx.add("shared_meter_readings", [reading])
    await ctx.session.flush()
    ctx.add("shared_meter_splits", [split])
    await ctx.session.flush()
    if status is SplitStatus.billed:
        charges = [_charge(split, ln, meter=meter, reading=reading, item=item, billed=billed)
                   for ln in lines if ln.amount > 0]
        ctx.add("charges", charges)
        await ctx.session.flush()
        for ln, charge in zip([ln for ln in lines if ln.amount > 0], charges, strict=True):
            ln.charge_id = charge.id
    ctx.add("shared_meter_split_lines", lines)
    await ctx.session.flush()


def _charge(split: SharedMeterSplit, line: SharedMeterSplitLine, *, meter: SharedMeter, reading: SharedMeterReading,
            item: FeeItem, billed: datetime) -> Charge:
    due: date = max(billing.due_date(split.period, item.due_day), billed.date())
    return Charge(estate_id=split.estate_id, unit_id=line.unit_id, fee_item_id=item.id, period=split.period,
                  description=billing.describe(split.period, item.name), amount=line.amount, due_date=due,
                  basis=splits.basis(split, line, meter=meter, reading=reading, item=item),
                  source=ChargeSource.shared_meter, source_id=line.id, created_at=billed)
