"""Shift hand-over (交接班, §7.2): the outgoing staff member hands the shift's log book over, the
incoming one takes over once every item needing follow-up is assigned or made a service request.
Any shift change works the same way: night to morning, morning to afternoon, afternoon to night."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.base import utcnow
from app.domain.desk.common import check_staff, past_day, person, user_names
from app.domain.desk.model import ShiftHandover, ShiftLogEntry, ShiftStatus
from app.domain.desk.night_log import entry_reads
from app.domain.desk.schemas import (
    AcceptCreate,
    FollowUpCreate,
    HandOverCreate,
    LogEntryRead,
    ShiftDetail,
    ShiftOpen,
    ShiftRead,
)
from app.domain.errors import AlreadyExists, Invalid, NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.service import check_estate
from app.domain.repairs.intake import service as intake
from app.domain.visibility import Visible, load_visible


class ShiftNotFound(NotFound):
    title = "Shift not found"
    title_zh = "未找到该班次"


SHIFT = Visible(model=ShiftHandover, missing=ShiftNotFound)


class LogEntryNotFound(NotFound):
    title = "Shift log entry not found"
    title_zh = "未找到该条值班记录"


LOG_ENTRY = Visible(model=ShiftLogEntry, missing=LogEntryNotFound)


class ShiftAlreadyOpen(AlreadyExists):
    title = "The estate already has an open shift; hand it over first"
    title_zh = "本小区已有未交班的班次，请先交接班"


class ShiftAlreadyLogged(AlreadyExists):
    title = "This shift of this day already has its log book"
    title_zh = "当天这一班次已有值班记录本"


class EntryNotInShift(Invalid):
    title = "entry_id names no log entry of this shift"
    title_zh = "entry_id 不是本班次的值班记录"


# --- reading -------------------------------------------------------------------------------------

async def shift_reads(session: AsyncSession, shifts: Sequence[ShiftHandover]) -> list[ShiftRead]:
    ids = [s.id for s in shifts]
    counts: dict[uuid.UUID, tuple[int, int, int]] = {}
    if ids:
        unhandled = (ShiftLogEntry.needs_follow_up & ShiftLogEntry.follow_up_assignee_id.is_(None)
                     & ShiftLogEntry.follow_up_request_id.is_(None))
        stmt = (select(ShiftLogEntry.shift_id, func.count(),
                       func.count(case((ShiftLogEntry.needs_follow_up, 1))), func.count(case((unhandled, 1))))
                .where(ShiftLogEntry.shift_id.in_(ids)).group_by(ShiftLogEntry.shift_id))
        counts = {row[0]: (row[1], row[2], row[3]) for row in (await session.execute(stmt)).all()}
    names = await user_names(session, [i for s in shifts for i in (s.opened_by, s.handed_over_by, s.accepted_by)])
    out = []
    for s in shifts:
        entries, follow_ups, open_items = counts.get(s.id, (0, 0, 0))
        out.append(ShiftRead.model_validate({
            **{c.key: getattr(s, c.key) for c in ShiftHandover.__table__.columns},
            "opened_by_name": names.get(s.opened_by), "handed_over_by_name": names.get(s.handed_over_by),
            "accepted_by_name": names.get(s.accepted_by), "entry_count": entries, "follow_up_count": follow_ups,
            "unhandled_count": open_items, "allowed_actions": s.allowed_actions(),
        }))
    return out


async def _entries(session: AsyncSession, shift: ShiftHandover, *, lock: bool = False) -> list[ShiftLogEntry]:
    stmt = select(ShiftLogEntry).where(ShiftLogEntry.shift_id == shift.id).order_by(ShiftLogEntry.occurred_at, ShiftLogEntry.id)
    return list((await session.execute(stmt.with_for_update() if lock else stmt)).scalars())


async def _detail(session: AsyncSession, shift: ShiftHandover) -> ShiftDetail:
    [read] = await shift_reads(session, [shift])
    return ShiftDetail(**read.model_dump(), entries=await entry_reads(session, await _entries(session, shift)))


async def get_shift(session: AsyncSession, *, actor: Actor, shift_id: uuid.UUID) -> ShiftDetail:
    return await _detail(session, await load_visible(session, SHIFT, shift_id, actor=actor))


class ShiftSort(StrEnum):
    """The keys shifts sort by."""

    shift_date = "shift_date"
    status = "status"
    created_at = "created_at"


async def list_shifts(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, status: ShiftStatus | None = None,
    shift_date: date | None = None,
) -> tuple[list[ShiftRead], int]:
    await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(ShiftHandover).where(ShiftHandover.estate_id == estate_id)
    if status is not None:
        stmt = stmt.where(ShiftHandover.status == status)
    if shift_date is not None:
        stmt = stmt.where(ShiftHandover.shift_date == shift_date)
    sortable = {
        ShiftSort.shift_date: ShiftHandover.shift_date, ShiftSort.status: ShiftHandover.status,
        ShiftSort.created_at: ShiftHandover.created_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable,
                                 default=[ShiftHandover.shift_date.desc(), ShiftHandover.created_at.desc(), ShiftHandover.id])
    return await shift_reads(session, rows), total


# --- changing ------------------------------------------------------------------------------------

async def open_shift(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: ShiftOpen) -> ShiftDetail:
    me = person(actor)
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    day = past_day(estate, data.shift_date, field="shift_date")
    base = select(ShiftHandover.id).where(ShiftHandover.estate_id == estate_id)
    if (await session.execute(base.where(ShiftHandover.status == ShiftStatus.open))).first() is not None:
        raise ShiftAlreadyOpen()
    same = base.where(ShiftHandover.shift_date == day, ShiftHandover.shift == data.shift)
    if (await session.execute(same)).first() is not None:
        raise ShiftAlreadyLogged(shift_date=day.isoformat(), shift=data.shift.value)
    shift = ShiftHandover(estate_id=estate_id, shift_date=day, shift=data.shift, opened_by=me)
    session.add(shift)
    await session.flush()
    await audit.record(session, actor=actor, action="shift.open", row=shift)
    return await _detail(session, shift)


async def hand_over(session: AsyncSession, *, actor: Actor, shift_id: uuid.UUID, data: HandOverCreate) -> ShiftDetail:
    """The outgoing staff member closes the book; nothing more is logged into it."""
    me = person(actor)
    shift = await load_visible(session, SHIFT, shift_id, actor=actor, lock=True)
    await audit.apply(session, actor=actor, row=shift, action="hand_over", by=me, at=utcnow(), note=data.note,
                      next_shift=data.next_shift)
    return await _detail(session, shift)


async def _dispose(session: AsyncSession, *, actor: Actor, shift: ShiftHandover, entry: ShiftLogEntry,
                   data: FollowUpCreate) -> None:
    shift.check_can_dispose()
    entry.check_open_follow_up()
    now = utcnow()
    if data.assign_to is not None:
        await check_staff(session, estate_id=shift.estate_id, user_id=data.assign_to, field="assign_to")
        await audit.apply(session, actor=actor, row=entry, action="assign", assignee_id=data.assign_to, note=data.note,
                          by=actor.id, at=now)
    else:
        assert data.request is not None
        actor.require(Perm.requests_write)
        # The intake service registers (and audits) the request in this same transaction.
        request = await intake.create_request(session, actor=actor, estate_id=shift.estate_id, data=data.request)
        await audit.apply(session, actor=actor, row=entry, action="convert", request_id=request.id, note=data.note,
                          by=actor.id, at=now)


async def dispose_follow_up(session: AsyncSession, *, actor: Actor, entry_id: uuid.UUID, data: FollowUpCreate) -> LogEntryRead:
    """Assign one item to a staff member, or make it a service request, before taking the shift over."""
    person(actor)
    entry = await load_visible(session, LOG_ENTRY, entry_id, actor=actor)
    shift = await load_visible(session, SHIFT, entry.shift_id, actor=actor, lock=True)
    # Read again under the shift's lock: a disposal committed meanwhile must be seen, not overwritten.
    entry = await load_visible(session, LOG_ENTRY, entry_id, actor=actor, lock=True)
    await _dispose(session, actor=actor, shift=shift, entry=entry, data=data)
    return (await entry_reads(session, [entry]))[0]


async def accept(session: AsyncSession, *, actor: Actor, shift_id: uuid.UUID, data: AcceptCreate) -> ShiftDetail:
    """The incoming staff member takes over, disposing of the items still unhandled in the same transaction."""
    me = person(actor)
    shift = await load_visible(session, SHIFT, shift_id, actor=actor, lock=True)
    shift.check_can_accept(by=me)  # before any item is disposed of
    entries = await _entries(session, shift, lock=True)
    by_id = {e.id: e for e in entries}
    for item in data.follow_ups:
        entry = by_id.get(item.entry_id)
        if entry is None:
            raise EntryNotInShift(field="follow_ups", entry_id=str(item.entry_id))
        await _dispose(session, actor=actor, shift=shift, entry=entry, data=item)
    await audit.apply(session, actor=actor, row=shift, action="accept", by=me, at=utcnow(), note=data.note, entries=entries)
    return await _detail(session, shift)

