"""The callback rate (§6.4): of the callback rounds completed in a period, how many were rung in time.

Counted: a callback round belongs to the period its order was completed in (the estate's
local calendar, ISO weeks from Monday). It was done within 7 days when an outcome was
recorded (done, escalated or resolved: the owner was reached in each) at or before its
due time, the end of the 7th local day after completion.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.callbacks.model import RATE_TARGET, REACHED_STATES, Callback, CallbackRateRecord, CallbackStatus
from app.domain.callbacks.schemas import CallbackRate, RatePeriod
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.registry.model import Estate

FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Counts:
    completed: int
    done_within_7_days: int
    done_late: int
    pending: int

    @property
    def rate(self) -> Decimal | None:
        if not self.completed:
            return None
        return (Decimal(self.done_within_7_days) / Decimal(self.completed)).quantize(FOUR_PLACES, ROUND_HALF_UP)

    @property
    def needed(self) -> int:
        # ceil(0.6 * completed) in integers, so 0.6 * 10 is exactly 6.
        required = -(-self.completed * int(RATE_TARGET * 100) // 100)
        return max(0, required - self.done_within_7_days)


def period_of(kind: RatePeriod, day: date) -> tuple[str, date, date]:
    """(label, first day, day after the last) of the ISO week or month containing `day`."""
    if kind == RatePeriod.week:
        label = estate_time.week_key(day)
        return label, *estate_time.week_span(label)
    label = estate_time.month_key(day)
    return label, *estate_time.month_span(label)


async def count(
    session: AsyncSession, *, estate_id: uuid.UUID, start: datetime, end: datetime, now: datetime,
    technician_id: uuid.UUID | None = None,
) -> Counts:
    """The period's figures in one query."""
    reached = Callback.status.in_([s.value for s in REACHED_STATES])
    stmt = select(
        func.count(),
        func.count().filter(reached & (Callback.done_at <= Callback.due_at)),
        func.count().filter(reached & (Callback.done_at > Callback.due_at)),
        func.count().filter((Callback.status == CallbackStatus.open) & (Callback.due_at >= now)),
    ).where(Callback.estate_id == estate_id, Callback.completed_at >= start, Callback.completed_at < end)
    if technician_id is not None:
        stmt = stmt.where(Callback.technician_id == technician_id)
    completed, in_time, late, pending = (await session.execute(stmt)).one()
    return Counts(completed, in_time, late, pending)


async def callback_rate(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, period: RatePeriod, day: date | None = None,
    technician_id: uuid.UUID | None = None, now: datetime | None = None,
) -> CallbackRate:
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    tz, now = estate_time.estate_zone(estate), now or utcnow()
    today = estate_time.today(tz, now=now)
    label, start, end = period_of(period, day or today)
    lo, hi = estate_time.day_start(start, tz), estate_time.day_start(end, tz)
    counts = await count(session, estate_id=estate_id, start=lo, end=hi, now=now, technician_id=technician_id)
    rate = counts.rate
    current_week = period == RatePeriod.week and start <= today < end
    return CallbackRate(
        estate_id=estate_id, period=period, label=label, start=start, end=end - timedelta(days=1), technician_id=technician_id,
        completed=counts.completed, done_within_7_days=counts.done_within_7_days, done_late=counts.done_late,
        pending=counts.pending, rate=rate, target=RATE_TARGET, meets_target=None if rate is None else rate >= RATE_TARGET,
        needed_to_reach_target=counts.needed if current_week else None,
    )


async def record_week(session: AsyncSession, *, actor: Actor, estate: Estate, week: str) -> CallbackRateRecord:
    """Write (or, on a forced re-run, rewrite) the week's record; below target, an audit entry says so."""
    lo, hi = estate_time.week_bounds(week, estate_time.estate_zone(estate))
    counts = await count(session, estate_id=estate.id, start=lo, end=hi, now=utcnow())
    rate = counts.rate
    values = dict(completed=counts.completed, done_within_7_days=counts.done_within_7_days, pending=counts.pending,
                  rate=rate, below_target=rate is not None and rate < RATE_TARGET)
    stmt = (
        insert(CallbackRateRecord)
        .values(id=uuid.uuid4(), created_at=utcnow(), estate_id=estate.id, week=week, **values)
        .on_conflict_do_update(index_elements=["estate_id", "week"], set_={**values, "created_at": utcnow()})
        .returning(CallbackRateRecord.id)
    )
    record_id = (await session.execute(stmt)).scalar_one()
    record = await session.get(CallbackRateRecord, record_id, populate_existing=True)
    assert record is not None
    await audit.record(session, actor=actor, action="callback_rate.recorded", entity="callback_rate_record",
                       entity_id=record.id, estate_id=estate.id, after=snapshot(record))
    if record.below_target:
        # The entry records the week the target was missed; the CS director sees the live rate
        # on the attention list (its callback_rate rule).
        await audit.record(session, actor=actor, action="callback_rate.below_target", entity="callback_rate_record",
                           entity_id=record.id, estate_id=estate.id, after=snapshot(record))
    return record


class RateWeekSort(StrEnum):
    """The keys weekly callback rates sort by."""

    week = "week"
    rate = "rate"


async def list_weeks(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, below_target: bool | None = None,
) -> tuple[list[CallbackRateRecord], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(CallbackRateRecord).where(CallbackRateRecord.estate_id == estate_id)
    if below_target is not None:
        stmt = stmt.where(CallbackRateRecord.below_target == below_target)
    sortable = {RateWeekSort.week: CallbackRateRecord.week, RateWeekSort.rate: CallbackRateRecord.rate}
    return await paginate(session, stmt, page, sortable=sortable, default=[CallbackRateRecord.week.desc()])
