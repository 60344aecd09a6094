"""An estate's time: its zone, its now and today, and the periods the office counts in.

Every "today", "this week", "this month" and period key of the domain, the jobs and the
reports is read here, in the estate's own zone: a receipt at 00:30 on the 1st in Shanghai is
the new month's although it is still the old one in UTC. Nothing else in app/ builds a
ZoneInfo or a period's bounds by hand (tests/lint/test_estate_time.py refuses it), because
ten hand-made copies drifted apart (two fallbacks for a bad zone, a week parser that turned
2025-W53 into 2026-W01).

Periods and their keys:
- day: "2026-12-03", [00:00, next 00:00) estate-local;
- ISO week: "2026-W49", Monday 00:00 to the next Monday;
- register week (the Saturday fee register, §5.5): Saturday to Friday, named by the ISO week
  of its Friday, so "2026-W48" is Saturday 21 to Friday 27 November 2026;
- month: "2026-12"; year: 2026.

The clock, one rule: a service that needs the moment takes a keyword `now: datetime | None`
and reads `utcnow()` once, at the top, when it is None (the helpers here do the same), and
hands that one moment down. Tests that need a moment pass `now=` when they call the domain,
and move the process clock with time-machine (`time_machine.travel`, or the `time_machine`
fixture's `move_to`) when they go through HTTP or a job; they never monkeypatch a module's
`utcnow` (the lint test refuses it). Why: a patched name only moves the one module that was
patched (a helper reading the clock elsewhere still sees the real hour, which is how nine
hour-of-day failures got in), while time-machine moves every reader in the process, and a
`now` keyword keeps the pure rules testable without any patching.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.config import get_settings
from app.domain.base import utcnow
from app.domain.errors import Invalid

log = logging.getLogger(__name__)

# The company's zone when an estate names none it can use; the setting's own default.
FALLBACK_ZONE = "Asia/Shanghai"


class InvalidPeriod(Invalid):
    title = "The period does not have the job's period format"
    title_zh = "期间格式与该任务的期间格式不符"


class HasZone(Protocol):
    time_zone: str


# --- zones, now and today ----------------------------------------------------------------

def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str | None, default: str | None = None) -> ZoneInfo:
    """The zone named, else `default`, else the configured company zone: an estate whose zone
    the machine's tz database no longer knows is still served (logged), never a 500."""
    fallback = default or _default_zone()
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; using %s", name, fallback)
        return ZoneInfo(fallback)


def _default_zone() -> str:
    return get_settings().default_time_zone or FALLBACK_ZONE


def estate_zone(estate: HasZone) -> ZoneInfo:
    return zone(estate.time_zone)


def _tz(where: HasZone | tzinfo) -> tzinfo:
    return where if isinstance(where, tzinfo) else estate_zone(where)


def local_now(where: HasZone | tzinfo, *, now: datetime | None = None) -> datetime:
    return (now or utcnow()).astimezone(_tz(where))


def today(where: HasZone | tzinfo, *, now: datetime | None = None) -> date:
    return local_now(where, now=now).date()


def local_time(at: datetime, where: HasZone | tzinfo | str) -> datetime:
    return at.astimezone(zone(where) if isinstance(where, str) else _tz(where))


# --- days ----------------------------------------------------------------------------------

def day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def day_key(day: date) -> str:
    return day.isoformat()


# --- ISO weeks -----------------------------------------------------------------------------

def week_key(day: date) -> str:
    return day.strftime("%G-W%V")


def week_monday(week: str) -> date:
    """The Monday of an ISO week; ValueError for a name that is no week (2026-W60, or 2025-W53,
    which strptime would quietly read as 2026-W01)."""
    if not re.fullmatch(r"\d{4}-W\d{2}", week):
        raise ValueError(f"{week!r} is not an ISO week")
    try:
        monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    except ValueError:
        raise ValueError(f"{week!r} is not an ISO week") from None
    if week_key(monday) != week:
        raise ValueError(f"{week!r} is not an ISO week of that year")
    return monday


def week_span(week: str) -> tuple[date, date]:
    """(Monday, the Monday after): the week's days, half-open."""
    monday = week_monday(week)
    return monday, monday + timedelta(days=7)


def week_bounds(week: str, tz: tzinfo) -> tuple[datetime, datetime]:
    monday, after = week_span(week)
    return day_start(monday, tz), day_start(after, tz)


def previous_week(day: date) -> str:
    """The ISO week before the one `day` is in: a Monday's run is about the week just ended."""
    return week_key(day - timedelta(days=7))


# --- register weeks (Saturday to Friday) -----------------------------------------------

def register_week_of(day: date) -> str:
    """The register week `day` falls in, named by its Friday's ISO week."""
    return week_key(day + timedelta(days=(4 - day.weekday()) % 7))


def last_ended_register_week(day: date) -> str:
    """The latest register week that ended before `day`: on a Saturday, the week that ended last night."""
    return register_week_of(day - timedelta(days=7))


def register_week_saturday(week: str) -> date:
    return week_monday(week) - timedelta(days=2)


def register_week_bounds(week: str, tz: tzinfo) -> tuple[datetime, datetime]:
    start = register_week_saturday(week)
    return day_start(start, tz), day_start(start + timedelta(days=7), tz)


# --- months and years ----------------------------------------------------------------------

def month_key(day: date) -> str:
    return day.strftime("%Y-%m")


def month_first(month: str) -> date:
    """The first day of "2026-12"; ValueError for anything else."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month) or month.startswith("0000"):
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    return date(int(month[:4]), int(month[5:7]), 1)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(first: date, n: int) -> date:
    """The first day of the month `n` months after (or before) `first`'s."""
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_span(month: str) -> tuple[date, date]:
    """(first day, first day of the next month): the month's days, half-open."""
    first = month_first(month)
    return first, add_months(first, 1)


def month_days(month: str) -> tuple[date, date]:
    """(first day, last day) of the month, both inclusive."""
    first = month_first(month)
    return first, add_months(first, 1) - timedelta(days=1)


def month_bounds(month: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in `tz`."""
    first = month_first(month)
    return day_start(first, tz), day_start(add_months(first, 1), tz)


def previous_month(day: date) -> str:
    """The month before the one `day` is in: a run on the 1st is about the month just ended."""
    return month_key(add_months(day, -1))


def year_bounds(year: int, tz: tzinfo) -> tuple[datetime, datetime]:
    return day_start(date(year, 1, 1), tz), day_start(date(year + 1, 1, 1), tz)


def parse(key: str, reader: Callable[[str], date], *, error: type[Invalid] = InvalidPeriod, field: str = "period") -> date:
    """`reader(key)` with a bad key answered as the caller's named error (422 naming `field`)."""
    try:
        return reader(key)
    except ValueError as exc:
        raise error(str(exc), field=field) from None


# --- the job clock's periods ---------------------------------------------------------------

@dataclass(frozen=True)
class PeriodKind:
    """A job's period: the name of the day, ISO week, month or hour a run is for.

    Called with a local datetime it gives the period's name; `bounds` turns a name back
    into the [start, end) instants a job's queries need.
    """

    name: str
    pattern: str
    _format: Callable[[datetime], str] = field(repr=False)
    _first: Callable[[str], datetime] = field(repr=False)
    _next: Callable[[datetime], datetime] = field(repr=False)

    def __call__(self, local_dt: datetime) -> str:
        return self._format(local_dt)

    def parse(self, period: str) -> datetime:
        """The period's first local wall-clock instant (naive); ValueError if malformed."""
        if not re.fullmatch(self.pattern, period):
            raise ValueError(f"{period!r} is not a {self.name} period")
        return self._first(period)

    def bounds(self, period: str, tz: tzinfo) -> tuple[datetime, datetime]:
        start = self.parse(period)
        return start.replace(tzinfo=tz), self._next(start).replace(tzinfo=tz)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0))


def _hour(period: str) -> datetime:
    return datetime.strptime(period, "%Y-%m-%dT%H")


def _next_month(d: datetime) -> datetime:
    return _midnight(add_months(d.date(), 1))


def _week(format_: Callable[[date], str], first: Callable[[str], date]) -> PeriodKind:
    return PeriodKind("week", r"\d{4}-W\d{2}", lambda d: format_(d.date()), lambda p: _midnight(first(p)),
                      lambda d: d + timedelta(days=7))


def _month(format_: Callable[[date], str]) -> PeriodKind:
    return PeriodKind("month", r"\d{4}-\d{2}", lambda d: format_(d.date()), lambda p: _midnight(month_first(p)), _next_month)


HOURLY = PeriodKind("hour", r"\d{4}-\d{2}-\d{2}T\d{2}", lambda d: d.strftime("%Y-%m-%dT%H"), _hour,
                    lambda d: d + timedelta(hours=1))
# The poll of channel payments (app/jobs/channels.py) runs every five minutes: 2026-11-28T1705.
FIVE_MINUTES = PeriodKind("five_minutes", r"\d{4}-\d{2}-\d{2}T\d{2}[0-5][05]",
                          lambda d: d.replace(minute=d.minute - d.minute % 5).strftime("%Y-%m-%dT%H%M"),
                          lambda p: datetime.strptime(p, "%Y-%m-%dT%H%M"), lambda d: d + timedelta(minutes=5))
DAILY = PeriodKind("day", r"\d{4}-\d{2}-\d{2}", lambda d: day_key(d.date()),
                   lambda p: _midnight(date.fromisoformat(p)), lambda d: d + timedelta(days=1))
WEEKLY = _week(week_key, week_monday)
MONTHLY = _month(month_key)
# A run is about the period that just ended, not the one it fires in: Monday's run the ISO
# week before, the 1st's run the month before, Saturday's the register week that ended last night,
# a morning's run (the channel statements') the day before.
PREVIOUS_DAY = PeriodKind("day", r"\d{4}-\d{2}-\d{2}", lambda d: day_key(d.date() - timedelta(days=1)),
                          lambda p: _midnight(date.fromisoformat(p)), lambda d: d + timedelta(days=1))
PREVIOUS_WEEK = _week(previous_week, week_monday)
PREVIOUS_MONTH = _month(previous_month)
LAST_REGISTER_WEEK = _week(last_ended_register_week, register_week_saturday)
