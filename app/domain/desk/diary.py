"""The work diary (工作日志, §7.3.15) of an estate-local day: the duty log entries and shift
hand-overs of the day, with the day's business counted from the records in one query -- never typed."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.callbacks.model import Callback
from app.domain.desk import duty_log
from app.domain.desk.model import ShiftHandover, ShiftLogEntry, Visitor
from app.domain.desk.schemas import Diary, DiaryCounts
from app.domain.desk.shift_handover import shift_reads
from app.domain.fees.payments.model import Receipt, ReceiptSeries, ReceiptStatus
from app.domain.registry.service import check_estate
from app.domain.repairs.model import RequestChannel, ServiceRequest


def _count(model: Any, at: Any, estate_id: uuid.UUID, start: datetime, end: datetime, *where: Any) -> Any:
    return (select(func.count()).select_from(model)
            .where(model.estate_id == estate_id, at >= start, at < end, *where).scalar_subquery())


async def day_counts(session: AsyncSession, *, estate_id: uuid.UUID, start: datetime, end: datetime) -> DiaryCounts:
    args = (estate_id, start, end)
    receipts = (Receipt.series == ReceiptSeries.receipt.value, Receipt.status == ReceiptStatus.issued.value)
    total = (select(func.coalesce(func.sum(Receipt.amount), 0)).where(
        Receipt.estate_id == estate_id, Receipt.issued_at >= start, Receipt.issued_at < end, *receipts).scalar_subquery())
    stmt = select(
        _count(ServiceRequest, ServiceRequest.created_at, *args, ServiceRequest.channel == RequestChannel.phone.value).label("calls"),
        _count(Visitor, Visitor.visited_at, *args).label("visitors"),
        _count(ServiceRequest, ServiceRequest.created_at, *args).label("requests"),
        _count(Receipt, Receipt.issued_at, *args, *receipts).label("payments"),
        total.label("payments_total"),
        # done_at is stamped whenever the owner was reached, whatever the outcome.
        _count(Callback, Callback.done_at, *args).label("callbacks"),
        _count(ShiftLogEntry, ShiftLogEntry.occurred_at, *args).label("log_entries"),
    )
    row = (await session.execute(stmt)).one()
    return DiaryCounts(calls=row.calls, visitors=row.visitors, requests=row.requests, payments=row.payments,
                       payments_total=Decimal(row.payments_total), callbacks=row.callbacks, log_entries=row.log_entries)


async def diary(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date | None) -> Diary:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    day = day or estate_time.today(estate)
    start, end = estate_time.day_bounds(day, estate_time.estate_zone(estate))
    shifts = (await session.execute(
        select(ShiftHandover).where(ShiftHandover.estate_id == estate_id, ShiftHandover.shift_date == day)
        .order_by(ShiftHandover.created_at, ShiftHandover.id)
    )).scalars().all()
    return Diary(
        estate_id=estate.id, date=day, time_zone=estate.time_zone, start=start, end=end,
        counts=await day_counts(session, estate_id=estate.id, start=start, end=end),
        duty_log=await duty_log.entries_of_day(session, estate_id=estate.id, day=day),
        shifts=await shift_reads(session, list(shifts)),
    )
