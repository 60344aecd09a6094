"""The shift log (夜班記錄, §7.2): what happened during a shift, written into the estate's open shift."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.desk.common import past_instant, person, user_names
from app.domain.desk.model import ShiftHandover, ShiftLogEntry, ShiftStatus
from app.domain.desk.schemas import LogEntryCreate, LogEntryRead
from app.domain.errors import Conflict
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.service import check_estate


class NoOpenShift(Conflict):
    title = "The estate has no open shift; open the shift's log first"
    title_zh = "本小区没有未交班的班次；请先开启本班值班记录"


async def entry_reads(session: AsyncSession, entries: Sequence[ShiftLogEntry]) -> list[LogEntryRead]:
    names = await user_names(session, [i for e in entries for i in (e.logged_by, e.follow_up_assignee_id)])
    return [LogEntryRead.model_validate({
        **{c.key: getattr(e, c.key) for c in ShiftLogEntry.__table__.columns}, "is_unhandled": e.is_unhandled,
        "logged_by_name": names.get(e.logged_by), "follow_up_assignee_name": names.get(e.follow_up_assignee_id),
    }) for e in entries]


async def open_shift_of(session: AsyncSession, *, estate_id: uuid.UUID) -> ShiftHandover:
    # Locked: an entry must not land in a book that is being handed over at the same moment.
    stmt = select(ShiftHandover).where(ShiftHandover.estate_id == estate_id, ShiftHandover.status == ShiftStatus.open)
    shift = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if shift is None:
        raise NoOpenShift()
    return shift


async def log_entry(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: LogEntryCreate) -> LogEntryRead:
    me = person(actor)
    await check_estate(session, actor=actor, estate_id=estate_id)
    occurred_at = past_instant(data.occurred_at, field="occurred_at")
    shift = await open_shift_of(session, estate_id=estate_id)
    entry = shift.log_entry(occurred_at=occurred_at, place=data.place, what=data.what, action_taken=data.action_taken,
                            needs_follow_up=data.needs_follow_up, by=me)
    session.add(entry)
    await session.flush()
    await audit.record(session, actor=actor, action="shift_log_entry.create", row=entry)
    return (await entry_reads(session, [entry]))[0]


class NightLogSort(StrEnum):
    """The keys night-log entries sort by."""

    occurred_at = "occurred_at"


async def list_entries(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, shift_date: date | None = None,
    shift_id: uuid.UUID | None = None, needs_follow_up: bool | None = None, unhandled: bool | None = None,
) -> tuple[list[LogEntryRead], int]:
    """The estate's log entries, latest first; filter by the shift's day, one shift, follow-ups."""
    await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(ShiftLogEntry).where(ShiftLogEntry.estate_id == estate_id)
    if shift_date is not None:
        stmt = stmt.where(ShiftLogEntry.shift_id.in_(
            select(ShiftHandover.id).where(ShiftHandover.estate_id == estate_id, ShiftHandover.shift_date == shift_date)))
    if shift_id is not None:
        stmt = stmt.where(ShiftLogEntry.shift_id == shift_id)
    if needs_follow_up is not None:
        stmt = stmt.where(ShiftLogEntry.needs_follow_up.is_(needs_follow_up))
    if unhandled is not None:
        is_unhandled = (ShiftLogEntry.needs_follow_up & ShiftLogEntry.follow_up_assignee_id.is_(None)
                        & ShiftLogEntry.follow_up_request_id.is_(None))
        stmt = stmt.where(is_unhandled if unhandled else ~is_unhandled)
    sortable = {NightLogSort.occurred_at: ShiftLogEntry.occurred_at}
    rows, total = await paginate(session, stmt, page, sortable=sortable,
                                 default=[ShiftLogEntry.occurred_at.desc(), ShiftLogEntry.id])
    return await entry_reads(session, rows), total
