"""Signing in and out of a shift (§7.1, §7.3.16) and reading the attendance book.

The time is always the server's: `now` exists so tests (and only they) can set the clock.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attendance import rules
from app.domain.attendance.model import AttendanceRecord, AttendanceStatus, Shift
from app.domain.attendance.schemas import AttendanceRead, AttendanceSummary, MonthSummary, SignIn, SignOut
from app.domain.audit import service as audit
from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, utcnow
from app.domain.calendar import estate_time
from app.domain.calendar import service as calendar_service
from app.domain.errors import AlreadyExists, Conflict, Forbidden
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.registry.model import Estate


class AlreadySignedIn(AlreadyExists):
    title = "You have already signed in for this shift today"
    title_zh = "您今天已为本班次签到"


class NotSignedIn(Conflict):
    title = "You have not signed in for this shift today, or have signed out already"
    title_zh = "您今天尚未为本班次签到，或已经签退"


class PersonOnly(Forbidden):
    title = "Only a person signs in; an integration's key or the job clock cannot"
    title_zh = "只有员工本人才能签到；集成的 API 密钥或定时任务不能签到"


def _local(estate: Estate, now: datetime) -> datetime:
    return estate_time.local_now(estate, now=now)


async def _to_reads(session: AsyncSession, rows: Sequence[AttendanceRecord]) -> list[AttendanceRead]:
    ids = {r.user_id for r in rows}
    names = dict((await session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))).all()) if ids else {}
    own = [k for k in AttendanceRead.model_fields if k in AttendanceRecord.model_fields]
    return [AttendanceRead.model_validate({**{k: getattr(r, k) for k in own}, "full_name": names.get(r.user_id, "")})
            for r in rows]


async def sign_in(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: SignIn,
                  now: datetime | None = None) -> AttendanceRead:
    """Sign the caller in for a shift of today (estate-local); late after the deadline."""
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    if actor.id is None or actor.is_api_key:
        raise PersonOnly()
    now = now or utcnow()
    local = _local(estate, now)
    hours = rules.OfficeHours.of(estate)
    shift = data.shift or rules.current_shift(hours, local)
    times = rules.shift_times(hours, shift, local.date(), local.tzinfo)  # type: ignore[arg-type]  # aware: the estate's zone
    rules.check_sign_in(times, now)
    late = rules.minutes_late(times, now)
    row = AttendanceRecord(estate_id=estate.id, user_id=actor.id, day=times.day, shift=shift, due_by=times.due_by,
                           shift_end=times.closes, signed_in_at=now, late=late > 0, late_minutes=late, note=data.note)
    session.add(row)
    await flush_unique(session, AlreadySignedIn(field="shift", shift=shift.value, day=times.day.isoformat()))
    await audit.record(session, actor=actor, action="attendance.sign_in", row=row)
    [read] = await _to_reads(session, [row])
    return read


async def sign_out(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: SignOut,
                   now: datetime | None = None) -> AttendanceRead:
    """Sign the caller out of today's shift; early leave before the shift closes."""
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    if actor.id is None or actor.is_api_key:
        raise PersonOnly()
    now = now or utcnow()
    stmt = (select(AttendanceRecord)
            .where(AttendanceRecord.estate_id == estate.id, AttendanceRecord.user_id == actor.id,
                   AttendanceRecord.day == _local(estate, now).date(), AttendanceRecord.status == AttendanceStatus.signed_in)
            .order_by(AttendanceRecord.shift_end.desc()).with_for_update())
    if data.shift is not None:
        stmt = stmt.where(AttendanceRecord.shift == data.shift)
    row = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    if row is None:
        raise NotSignedIn(field="shift")
    await audit.apply(session, actor=actor, row=row, action="sign_out", at=now, note=data.note)
    [read] = await _to_reads(session, [row])
    return read


class AttendanceSort(StrEnum):
    """The keys attendance records sort by."""

    day = "day"
    signed_in_at = "signed_in_at"
    late_minutes = "late_minutes"
    early_minutes = "early_minutes"


_SORTABLE = {
    AttendanceSort.day: AttendanceRecord.day, AttendanceSort.signed_in_at: AttendanceRecord.signed_in_at,
    AttendanceSort.late_minutes: AttendanceRecord.late_minutes,
    AttendanceSort.early_minutes: AttendanceRecord.early_minutes,
}


async def list_mine(session: AsyncSession, *, actor: Actor, page: PageRequest, date_from: date | None,
                    date_to: date | None) -> tuple[list[AttendanceRead], int]:
    """The caller's own sign-ins at every estate, latest first."""
    stmt = select(AttendanceRecord).where(AttendanceRecord.user_id == actor.id)
    stmt = _between(stmt, date_from, date_to)
    rows, total = await paginate(session, stmt, page, sortable=_SORTABLE,
                                 default=[AttendanceRecord.day.desc(), AttendanceRecord.shift_end.desc(), AttendanceRecord.id])
    return await _to_reads(session, rows), total


def _between(stmt: Any, date_from: date | None, date_to: date | None) -> Any:
    if date_from is not None:
        stmt = stmt.where(AttendanceRecord.day >= date_from)
    if date_to is not None:
        stmt = stmt.where(AttendanceRecord.day <= date_to)
    return stmt


async def list_estate(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, day: date | None = None,
    month: str | None = None, user_id: uuid.UUID | None = None, shift: Shift | None = None, late: bool | None = None,
    left_early: bool | None = None,
) -> tuple[list[AttendanceRead], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(AttendanceRecord).where(AttendanceRecord.estate_id == estate_id)
    if day is not None:
        stmt = stmt.where(AttendanceRecord.day == day)
    if month is not None:
        stmt = _between(stmt, *estate_time.month_days(month))  # the API's pattern checked the shape
    for column, value in ((AttendanceRecord.user_id, user_id), (AttendanceRecord.shift, shift),
                          (AttendanceRecord.late, late), (AttendanceRecord.left_early, left_early)):
        if value is not None:
            stmt = stmt.where(column == value)
    rows, total = await paginate(session, stmt, page, sortable=_SORTABLE,
                                 default=[AttendanceRecord.day, AttendanceRecord.shift_end, AttendanceRecord.signed_in_at,
                                          AttendanceRecord.id])
    return await _to_reads(session, rows), total


async def month_summary(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str) -> MonthSummary:
    """Per person: shifts signed, late and early counts and minutes, shifts never signed out; one query."""
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    first, last = estate_time.month_days(month)
    r = AttendanceRecord

    def count(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0).cast(Integer)

    stmt = (
        select(r.user_id, User.full_name, func.count().label("shifts"), count(r.late).label("late"),
               func.coalesce(func.sum(r.late_minutes), 0).cast(Integer).label("late_minutes"),
               count(r.left_early).label("left_early"),
               func.coalesce(func.sum(r.early_minutes), 0).cast(Integer).label("early_minutes"),
               count(r.status == AttendanceStatus.signed_in.value).label("not_signed_out"))
        .join(User, User.id == r.user_id)
        .where(r.estate_id == estate_id, r.day >= first, r.day <= last)
        .group_by(r.user_id, User.full_name).order_by(User.full_name, r.user_id)
    )
    people = [AttendanceSummary.model_validate(row, from_attributes=True) for row in (await session.execute(stmt)).all()]
    calendar = await calendar_service.days(session, company_id=estate.company_id, first=first, last=last)
    return MonthSummary(estate_id=estate_id, month=month, workdays=sum(d.is_workday for d in calendar),
                        calendar_source=calendar[0].source, people=people)
