"""The one answer to "what kind of day is D for company C", and the admins' editing of the calendar.

Every caller (duty roster, attendance, jobs, attention) asks here; nothing else reads
chinese_calendar or `holidays`. Writes lock the company row, so that two uploads or two
first edits of a year (which copy the library's days in) run one after the other.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import Integer, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot
from app.domain.calendar import days as cal
from app.domain.calendar import upload
from app.domain.calendar.model import HolidayCalendarDay
from app.domain.calendar.schemas import HolidayDayCreate, HolidayDayRead, HolidayDayUpdate, HolidayYearIn, HolidayYearRead
from app.domain.errors import AlreadyExists, Conflict, NotFound
from app.domain.registry.model import Company


class HolidayDayExists(AlreadyExists):
    title = "That date is already in the year's calendar; change it instead"
    title_zh = "当年日历中已有这一天，请直接修改"


class HolidayDayNotFound(NotFound):
    title = "That date is not in the company's holiday calendar"
    title_zh = "公司节假日日历中没有这一天"


class YearNotEntered(Conflict):
    title = "Nothing is entered for that year and no library knows it: upload the whole year's schedule first"
    title_zh = "该年度尚未录入节假日，系统也无该年资料：请先上传全年安排"


# --- reading: the one answer ----------------------------------------------------------------

async def _entered(session: AsyncSession, company_id: uuid.UUID, first_year: int, last_year: int) -> dict[int, dict[date, cal.Entry]]:
    rows = (await session.execute(
        select(HolidayCalendarDay.day, HolidayCalendarDay.kind, HolidayCalendarDay.name)
        .where(HolidayCalendarDay.company_id == company_id, HolidayCalendarDay.day >= date(first_year, 1, 1),
               HolidayCalendarDay.day <= date(last_year, 12, 31)))).all()
    out: dict[int, dict[date, cal.Entry]] = {}
    for day, kind, name in rows:
        out.setdefault(day.year, {})[day] = cal.Entry(cal.DayKind(kind), name)
    return out


async def days(session: AsyncSession, *, company_id: uuid.UUID, first: date, last: date) -> list[cal.CalendarDay]:
    """Each day of [first, last] with its type, holiday name and source; one query."""
    entered = await _entered(session, company_id, first.year, last.year)
    span = (date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1))
    return [cal.resolve(d, entered.get(d.year)) for d in span]


async def day(session: AsyncSession, *, company_id: uuid.UUID, on: date) -> cal.CalendarDay:
    [found] = await days(session, company_id=company_id, first=on, last=on)
    return found


async def unconfirmed_years(session: AsyncSession, *, company_id: uuid.UUID, years: Iterable[int]) -> list[int]:
    """Of these years, those answered only provisionally: nothing entered, unknown to the library."""
    candidates = sorted(y for y in set(years) if cal.library_year(y) is None)
    if not candidates:
        return []
    entered = set((await session.execute(
        select(func.extract("year", HolidayCalendarDay.day).cast(Integer)).distinct()
        .where(HolidayCalendarDay.company_id == company_id, HolidayCalendarDay.day >= date(candidates[0], 1, 1),
               HolidayCalendarDay.day <= date(candidates[-1], 12, 31)))).scalars())
    return [y for y in candidates if y not in entered]


# --- the admins' calendar ---------------------------------------------------------------------

def _company(actor: Actor) -> uuid.UUID:
    assert actor.company_id is not None, "calendar endpoints are for a company's staff"
    return actor.company_id


async def _rows(session: AsyncSession, company_id: uuid.UUID, year: int) -> list[HolidayCalendarDay]:
    return list((await session.execute(
        select(HolidayCalendarDay).where(HolidayCalendarDay.company_id == company_id,
                                         HolidayCalendarDay.day >= date(year, 1, 1), HolidayCalendarDay.day <= date(year, 12, 31))
        .order_by(HolidayCalendarDay.day))).scalars())


def _record(company_id: uuid.UUID, year: int) -> str:
    # A year of the calendar is one record: replaced whole, or amended a day at a time, its days'
    # rows come and go; one version counts every edit of the year (and is each day's ETag).
    return versions.key("holiday_year", company_id, year)


def _read(row: HolidayCalendarDay, version: int) -> HolidayDayRead:
    return HolidayDayRead(day=row.day, kind=cal.DayKind(row.kind), name=row.name, source=cal.Source.entered, version=version)


async def list_year(session: AsyncSession, *, actor: Actor, year: int) -> HolidayYearRead:
    """The year's days as they are answered: the company's entries, else the library's, else the statutory days."""
    rows = await _rows(session, _company(actor), year)
    version = await versions.current(session, _record(_company(actor), year))
    if rows:
        return HolidayYearRead(year=year, source=cal.Source.entered, confirmed=True, days=[_read(r, version) for r in rows],
                               version=version)
    source, entries = cal.fallback_year(year)
    days = [HolidayDayRead(day=d, kind=e.kind, name=e.name, source=source, version=version) for d, e in sorted(entries.items())]
    return HolidayYearRead(year=year, source=source, confirmed=source != cal.Source.provisional, days=days, version=version)


async def _lock(session: AsyncSession, company_id: uuid.UUID) -> None:
    await session.execute(select(Company.id).where(Company.id == company_id).with_for_update())


async def _ensure_entered(session: AsyncSession, *, actor: Actor, company_id: uuid.UUID, year: int) -> None:
    """A single day amends an entered year; a year the library knows is copied in first (lazy seeding)."""
    if await _rows(session, company_id, year):
        return
    library = cal.library_year(year)
    if library is None:
        raise YearNotEntered(field="day", year=year)
    session.add_all([HolidayCalendarDay(company_id=company_id, day=d, kind=e.kind, name=e.name, updated_by=actor.id)
                     for d, e in library.items()])
    await session.flush()
    await audit.record(session, actor=actor, action="holiday_calendar.seed", entity="holiday_calendar", entity_id=str(year),
                       estate_id=None, after={"year": year, "from": "chinese_calendar", "days": len(library)})


async def _one(session: AsyncSession, company_id: uuid.UUID, on: date) -> HolidayCalendarDay | None:
    return (await session.execute(select(HolidayCalendarDay).where(
        HolidayCalendarDay.company_id == company_id, HolidayCalendarDay.day == on))).scalar_one_or_none()


async def add_day(session: AsyncSession, *, actor: Actor, data: HolidayDayCreate) -> HolidayDayRead:
    company_id = _company(actor)
    upload.check_year(data.day.year, upload.from_body([data]))
    await _lock(session, company_id)
    await versions.claim(session, _record(company_id, data.day.year), expected_version=None)
    await _ensure_entered(session, actor=actor, company_id=company_id, year=data.day.year)
    if await _one(session, company_id, data.day) is not None:
        raise HolidayDayExists(field="day", day=data.day.isoformat())
    row = HolidayCalendarDay(company_id=company_id, day=data.day, kind=data.kind, name=data.name, updated_by=actor.id)
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="holiday_calendar.add", entity="holiday_calendar_day", entity_id=row.id,
                       estate_id=None, after=snapshot(row))
    return _read(row, await versions.bump(session, _record(company_id, data.day.year)))


async def _entered_day(session: AsyncSession, *, actor: Actor, on: date) -> HolidayCalendarDay:
    """The entered row of `on`, under the company's lock; a library year is copied in first."""
    company_id = _company(actor)
    await _lock(session, company_id)
    if cal.library_year(on.year) is not None:
        await _ensure_entered(session, actor=actor, company_id=company_id, year=on.year)
    row = await _one(session, company_id, on)
    if row is None:
        raise HolidayDayNotFound(day=on.isoformat())
    return row


async def change_day(
    session: AsyncSession, *, actor: Actor, on: date, data: HolidayDayUpdate, expected_version: int | None = None,
) -> HolidayDayRead:
    row = await _entered_day(session, actor=actor, on=on)
    # After the company's lock (_entered_day), as every edit of the calendar takes them.
    await versions.claim(session, _record(row.company_id, on.year), expected_version=expected_version)
    before = snapshot(row)
    # Not re-validated as input: a row copied from the library may carry an empty name.
    changed = HolidayDayCreate.model_construct(day=on, kind=cal.DayKind(data.kind or row.kind), name=data.name or row.name)
    upload.check_year(on.year, [upload.Row(1, {"day": "day", "kind": "kind", "name": "name"}, changed)])
    row.kind, row.name, row.updated_by = changed.kind, changed.name, actor.id
    await session.flush()
    await audit.record(session, actor=actor, action="holiday_calendar.change", entity="holiday_calendar_day", entity_id=row.id,
                       estate_id=None, before=before, after=snapshot(row))
    return _read(row, await versions.bump(session, _record(row.company_id, on.year)))


async def delete_day(session: AsyncSession, *, actor: Actor, on: date) -> None:
    row = await _entered_day(session, actor=actor, on=on)
    await versions.claim(session, _record(row.company_id, on.year), expected_version=None)
    await versions.bump(session, _record(row.company_id, on.year))
    await audit.record(session, actor=actor, action="holiday_calendar.delete", entity="holiday_calendar_day", entity_id=row.id,
                       estate_id=None, before=snapshot(row))
    await session.delete(row)
    await session.flush()


async def replace_year(
    session: AsyncSession, *, actor: Actor, year: int, data: HolidayYearIn, expected_version: int | None = None,
) -> HolidayYearRead:
    """The whole year at once (the State Council's notice): every entered day of the year replaced, or nothing."""
    return await _replace(session, actor=actor, year=year, rows=upload.from_body(data.days), expected_version=expected_version)


async def upload_year(session: AsyncSession, *, actor: Actor, year: int, data: bytes) -> HolidayYearRead:
    """The same from a CSV or JSON file."""
    return await _replace(session, actor=actor, year=year, rows=upload.read_file(data))


async def _replace(
    session: AsyncSession, *, actor: Actor, year: int, rows: list[upload.Row], expected_version: int | None = None,
) -> HolidayYearRead:
    upload.check_year(year, rows)
    company_id = _company(actor)
    await _lock(session, company_id)
    await versions.claim(session, _record(company_id, year), expected_version=expected_version)
    await versions.bump(session, _record(company_id, year))
    before = [snapshot(r, exclude={"id", "created_at", "company_id", "updated_by"}) for r in await _rows(session, company_id, year)]
    await session.execute(delete(HolidayCalendarDay).where(
        HolidayCalendarDay.company_id == company_id, HolidayCalendarDay.day >= date(year, 1, 1),
        HolidayCalendarDay.day <= date(year, 12, 31)).execution_options(synchronize_session=False))
    session.add_all([HolidayCalendarDay(company_id=company_id, day=r.day.day, kind=r.day.kind, name=r.day.name, updated_by=actor.id)
                     for r in sorted(rows, key=lambda r: r.day.day)])
    await session.flush()
    after = [{"day": r.day.day, "kind": r.day.kind, "name": r.day.name} for r in rows]
    await audit.record(session, actor=actor, action="holiday_calendar.replace_year", entity="holiday_calendar",
                       entity_id=str(year), estate_id=None, before={"days": before}, after={"days": after})
    return await list_year(session, actor=actor, year=year)
