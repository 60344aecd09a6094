"""The duty log (值班記錄, §7.3.15): each staff member's notes of their shift, kept as written."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.desk.common import past_day, person, user_names
from app.domain.desk.model import DutyLogEntry, ShiftKind
from app.domain.desk.schemas import DutyLogCreate, DutyLogRead
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.service import check_estate

# The day's shifts in the order they are worked, for the diary and the list.
SHIFT_ORDER = case({ShiftKind.morning.value: 0, ShiftKind.afternoon.value: 1, ShiftKind.night.value: 2},
                   value=DutyLogEntry.shift, else_=3)


async def to_reads(session: AsyncSession, entries: Sequence[DutyLogEntry]) -> list[DutyLogRead]:
    names = await user_names(session, (e.staff_id for e in entries))
    return [DutyLogRead.model_validate({**{c.key: getattr(e, c.key) for c in DutyLogEntry.__table__.columns},
                                        "staff_name": names.get(e.staff_id, "")}) for e in entries]


async def create_entry(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: DutyLogCreate) -> DutyLogRead:
    """The signed-in staff member's note of a shift of today or an earlier day."""
    me = person(actor)
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    day = past_day(estate, data.shift_date, field="shift_date")
    entry = DutyLogEntry(estate_id=estate_id, staff_id=me, shift_date=day, shift=data.shift, text=data.text)
    session.add(entry)
    await session.flush()
    await audit.record(session, actor=actor, action="duty_log_entry.create", row=entry)
    return (await to_reads(session, [entry]))[0]


def day_order() -> list[Any]:
    return [DutyLogEntry.shift_date, SHIFT_ORDER, DutyLogEntry.created_at, DutyLogEntry.id]


class DutyLogSort(StrEnum):
    """The keys duty-log entries sort by."""

    shift_date = "shift_date"
    created_at = "created_at"


async def list_entries(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, shift_date: date | None = None,
    shift: ShiftKind | None = None, staff_id: uuid.UUID | None = None,
) -> tuple[list[DutyLogRead], int]:
    await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(DutyLogEntry).where(DutyLogEntry.estate_id == estate_id)
    for column, value in ((DutyLogEntry.shift_date, shift_date), (DutyLogEntry.shift, shift), (DutyLogEntry.staff_id, staff_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    sortable = {DutyLogSort.shift_date: DutyLogEntry.shift_date, DutyLogSort.created_at: DutyLogEntry.created_at}
    # Latest day first; within a day, in the order the shifts are worked.
    default = [DutyLogEntry.shift_date.desc(), *day_order()[1:]]
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=default)
    return await to_reads(session, rows), total


async def entries_of_day(session: AsyncSession, *, estate_id: uuid.UUID, day: date) -> list[DutyLogRead]:
    stmt = select(DutyLogEntry).where(DutyLogEntry.estate_id == estate_id, DutyLogEntry.shift_date == day).order_by(*day_order())
    return await to_reads(session, list((await session.execute(stmt)).scalars()))
