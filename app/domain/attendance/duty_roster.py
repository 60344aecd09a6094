"""The holiday duty roster (§5.1): who is on duty at the estate on which day, and the holidays nobody covers."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.attendance.model import DutyAssignment
from app.domain.attendance.schemas import DutyDayIn, DutyDayRead, DutyRosterRead, OnDuty
from app.domain.audit import service as audit
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.base import snapshot
from app.domain.calendar import estate_time
from app.domain.calendar import service as calendar_service
from app.domain.calendar.days import CalendarDay, Source
from app.domain.errors import Invalid, NotFound
from app.domain.registry import service as registry_service
from app.domain.registry.model import Estate

MAX_RANGE_DAYS = 92  # a quarter: the holidays of the season ahead


class RangeTooLong(Invalid):
    title = "The roster is read at most 92 days at a time, date_from not after date_to"
    title_zh = "值班表一次最多查询 92 天，且 date_from 不能晚于 date_to"


class NotStaffOfEstate(Invalid):
    title = "Every user on the roster must be an active staff member of this estate"
    title_zh = "值班表上的每个用户都必须是本小区在职员工"


class DuplicateOnDuty(Invalid):
    title = "A person appears twice on the day's roster"
    title_zh = "同一人在当天值班表上出现了两次"


class DutyAssignmentNotFound(NotFound):
    title = "That person is not on duty that day"
    title_zh = "此人当天不在值班表上"


def _check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from or (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise RangeTooLong(field="date_to", max_days=MAX_RANGE_DAYS)


async def _assignments(session: AsyncSession, estate_id: uuid.UUID, date_from: date, date_to: date) -> dict[date, list[OnDuty]]:
    stmt = (select(DutyAssignment.day, DutyAssignment.user_id, User.full_name, DutyAssignment.note)
            .join(User, User.id == DutyAssignment.user_id)
            .where(DutyAssignment.estate_id == estate_id, DutyAssignment.day >= date_from, DutyAssignment.day <= date_to)
            .order_by(DutyAssignment.day, User.full_name, DutyAssignment.user_id))
    out: dict[date, list[OnDuty]] = {}
    for day, user_id, name, note in (await session.execute(stmt)).all():
        out.setdefault(day, []).append(OnDuty(user_id=user_id, full_name=name, note=note))
    return out


def _record(estate_id: uuid.UUID, day: date) -> str:
    # A day's roster is a record of several rows (one per person on duty), versioned as one.
    return versions.key("duty_roster", estate_id, day.isoformat())


def _day_read(cal: CalendarDay, on_duty: list[OnDuty], version: int) -> DutyDayRead:
    return DutyDayRead(day=cal.day, day_type=cal.type, holiday_name=cal.holiday_name, calendar_source=cal.source,
                       on_duty=on_duty, uncovered=cal.needs_duty_roster and not on_duty, version=version)


async def roster(session: AsyncSession, *, estate: Estate, date_from: date, date_to: date) -> DutyRosterRead:
    """Every day of the range with its calendar status and who is on duty (no permission check: jobs use it too)."""
    _check_range(date_from, date_to)
    by_day = await _assignments(session, estate.id, date_from, date_to)
    calendar = await calendar_service.days(session, company_id=estate.company_id, first=date_from, last=date_to)
    seen = await versions.current_of(session, [_record(estate.id, cal.day) for cal in calendar])
    days = [_day_read(cal, by_day.get(cal.day, []), seen[_record(estate.id, cal.day)]) for cal in calendar]
    return DutyRosterRead(estate_id=estate.id, date_from=date_from, date_to=date_to, days=days,
                          uncovered_days=[d.day for d in days if d.uncovered],
                          provisional_days=[d.day for d in days if d.calendar_source == Source.provisional])


async def get_roster(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, date_from: date | None,
                     date_to: date | None, now: datetime | None = None) -> DutyRosterRead:
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    date_from = date_from or estate_time.today(estate, now=now)
    date_to = date_to or date_from + timedelta(days=13)
    return await roster(session, estate=estate, date_from=date_from, date_to=date_to)


async def _check_staff(session: AsyncSession, *, estate_id: uuid.UUID, user_ids: list[uuid.UUID]) -> None:
    if len(set(user_ids)) != len(user_ids):
        raise DuplicateOnDuty(field="assignments")
    if not user_ids:
        return
    stmt = (select(User.id).join(UserEstate, UserEstate.user_id == User.id)
            .where(UserEstate.estate_id == estate_id, User.id.in_(user_ids), User.is_active.is_(True)))
    found = set((await session.execute(stmt)).scalars().all())
    missing = [str(u) for u in user_ids if u not in found]
    if missing:
        raise NotStaffOfEstate(field="assignments", user_ids=missing)


async def put_day(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date, data: DutyDayIn, expected_version: int | None = None,
) -> DutyDayRead:
    """Replace the day's roster with the given people; each change is audited."""
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    wanted = {a.user_id: a.note for a in data.assignments}
    await _check_staff(session, estate_id=estate_id, user_ids=[a.user_id for a in data.assignments])
    await versions.claim(session, _record(estate_id, day), expected_version=expected_version)
    current = (await session.execute(select(DutyAssignment).where(
        DutyAssignment.estate_id == estate_id, DutyAssignment.day == day).with_for_update())).scalars().all()
    for row in current:
        if row.user_id not in wanted:
            await _remove(session, actor=actor, row=row)
        elif row.note != wanted[row.user_id]:
            before = snapshot(row)
            row.note = wanted[row.user_id]
            await session.flush()
            await audit.record(session, actor=actor, action="duty_roster.update", entity="duty_assignment", entity_id=row.id,
                               estate_id=estate_id, before=before, after=snapshot(row))
    kept = {row.user_id for row in current}
    for user_id, note in wanted.items():
        if user_id not in kept:
            row = DutyAssignment(estate_id=estate_id, day=day, user_id=user_id, note=note, assigned_by=actor.id)
            session.add(row)
            await session.flush()
            await audit.record(session, actor=actor, action="duty_roster.assign", entity="duty_assignment", entity_id=row.id,
                               estate_id=estate_id, after=snapshot(row))
    await session.flush()
    cal = await calendar_service.day(session, company_id=estate.company_id, on=day)
    version = await versions.bump(session, _record(estate_id, day))
    return _day_read(cal, (await _assignments(session, estate_id, day, day)).get(day, []), version)


async def _remove(session: AsyncSession, *, actor: Actor, row: DutyAssignment) -> None:
    await audit.record(session, actor=actor, action="duty_roster.unassign", entity="duty_assignment", entity_id=row.id,
                       estate_id=row.estate_id, before=snapshot(row))
    await session.delete(row)


async def remove(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date, user_id: uuid.UUID) -> None:
    """Take one person off the day's roster."""
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    await versions.claim(session, _record(estate_id, day), expected_version=None)
    row = (await session.execute(select(DutyAssignment).where(
        DutyAssignment.estate_id == estate_id, DutyAssignment.day == day, DutyAssignment.user_id == user_id,
    ).with_for_update())).scalar_one_or_none()
    if row is None:
        raise DutyAssignmentNotFound()
    await _remove(session, actor=actor, row=row)
    await session.flush()
    await versions.bump(session, _record(estate_id, day))
