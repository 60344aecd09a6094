"""A split's life after it is recorded: read it, approve it (a second person), discard it, bill it.

Billing makes one charge per unit with an amount, sourced from the unit's split line
(`uq_charge_source` is unique on (source, source_id)), so billing again, or two people
billing at once, makes nothing new.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.errors import NotFound
from app.domain.fees.billing import rules as billing
from app.domain.fees.model import Charge, ChargeSource, FeeItem
from app.domain.fees.shared_meters.model import (
    SPLIT_TRANSITIONS,
    SharedMeter,
    SharedMeterReading,
    SharedMeterSplit,
    SharedMeterSplitLine,
    SplitStatus,
)
from app.domain.registry.model import Building, Estate, Unit
from app.domain.registry.names import unit_label
from app.domain.visibility import Visible, load_visible


class SplitNotFound(NotFound):
    title = "Shared meter split not found"
    title_zh = "未找到该公摊分摊记录"


SPLIT = Visible(model=SharedMeterSplit, missing=SplitNotFound)


async def _lines(session: AsyncSession, split: SharedMeterSplit) -> list[SharedMeterSplitLine]:
    stmt = (select(SharedMeterSplitLine).join(Unit, Unit.id == SharedMeterSplitLine.unit_id)
            .join(Building, Building.id == Unit.building_id).where(SharedMeterSplitLine.split_id == split.id)
            .order_by(Building.number, Building.name, Unit.entrance, Unit.number, Unit.id))
    return list((await session.execute(stmt)).scalars())


async def split_read(session: AsyncSession, split: SharedMeterSplit) -> dict[str, Any]:
    """The split with its reading and every unit's line, labelled."""
    estate = await session.get_one(Estate, split.estate_id)
    reading = await session.get_one(SharedMeterReading, split.reading_id)
    lines = await _lines(session, split)
    units = {u.id: (u, b) for u, b in (await session.execute(
        select(Unit, Building).join(Building, Building.id == Unit.building_id)
        .where(Unit.id.in_([ln.unit_id for ln in lines])))).all()}

    def label(unit_id: uuid.UUID) -> str:
        u, b = units[unit_id]
        return unit_label(building_name=b.name, building_number=b.number, entrance=u.entrance, number=u.number,
                          script=estate.script)

    return {**{k: getattr(split, k) for k in SharedMeterSplit.model_fields}, "previous": reading.previous,
            "current": reading.current,
            "lines": [{**{k: getattr(ln, k) for k in SharedMeterSplitLine.model_fields}, "unit_label": label(ln.unit_id)}
                      for ln in lines]}


async def get_split(session: AsyncSession, *, actor: Actor, split_id: uuid.UUID) -> dict[str, Any]:
    return await split_read(session, await load_visible(session, SPLIT, split_id, actor=actor))


async def approve(session: AsyncSession, *, actor: Actor, split_id: uuid.UUID, now: datetime | None = None) -> dict[str, Any]:
    split = await load_visible(session, SPLIT, split_id, actor=actor, lock=True)
    await audit.apply(session, actor=actor, row=split, action="approve", by=actor.id, at=now or utcnow())
    return await split_read(session, split)


async def discard(session: AsyncSession, *, actor: Actor, split_id: uuid.UUID, reason: str,
                  now: datetime | None = None) -> dict[str, Any]:
    split = await load_visible(session, SPLIT, split_id, actor=actor, lock=True)
    await audit.apply(session, actor=actor, row=split, action="discard", reason=reason, at=now or utcnow())
    return await split_read(session, split)


def basis(split: SharedMeterSplit, line: SharedMeterSplitLine, *, meter: SharedMeter, reading: SharedMeterReading,
          item: FeeItem) -> dict[str, Any]:
    """Every factor of the unit's share, for the bill explanation."""
    return {"shared_meter_id": str(meter.id), "shared_meter": meter.name, "split_id": str(split.id),
            "previous": str(reading.previous), "current": str(reading.current), "own_usage": str(split.own_usage),
            "usage": str(split.usage), "rate": billing.show_rate(split.rate), "total": str(split.total),
            "method": str(split.method), "factor": str(line.factor.normalize()),
            "factor_total": str(split.factor_total.normalize()), "adjustment": str(line.adjustment)}


async def _charges(session: AsyncSession, split: SharedMeterSplit, *, now: datetime) -> list[Charge]:
    meter = await session.get_one(SharedMeter, split.shared_meter_id)
    reading = await session.get_one(SharedMeterReading, split.reading_id)
    item = await session.get_one(FeeItem, meter.fee_item_id)
    estate = await session.get_one(Estate, split.estate_id)
    # Not due before it is billed: a split approved late is due on the day it is billed.
    due = max(billing.due_date(split.period, item.due_day), estate_time.today(estate, now=now))
    lines = [ln for ln in await _lines(session, split) if ln.amount > 0 and ln.charge_id is None]
    charges = [Charge(id=uuid.uuid4(), estate_id=split.estate_id, unit_id=ln.unit_id, fee_item_id=item.id,
                      period=split.period, description=billing.describe(split.period, item.name), amount=ln.amount,
                      due_date=due, basis=basis(split, ln, meter=meter, reading=reading, item=item),
                      source=ChargeSource.shared_meter, source_id=ln.id) for ln in lines]
    session.add_all(charges)
    await session.flush()
    for ln, charge in zip(lines, charges, strict=True):
        ln.charge_id = charge.id
    return charges


async def bill(session: AsyncSession, *, actor: Actor, split_id: uuid.UUID,
               now: datetime | None = None) -> tuple[dict[str, Any], int]:
    """Bill an approved split; a split billed already answers with itself and 0 charges made."""
    split = await load_visible(session, SPLIT, split_id, actor=actor, lock=True)
    if SplitStatus(split.status) is SplitStatus.billed:
        return await split_read(session, split), 0
    at = now or utcnow()
    SPLIT_TRANSITIONS.next_state(SplitStatus(split.status), "bill")  # a draft is refused before anything is made
    charges = await _charges(session, split, now=at)
    await audit.apply(session, actor=actor, row=split, action="bill", at=at,
                      audit_extra={"charge_ids": [str(c.id) for c in charges]})
    return await split_read(session, split), len(charges)
