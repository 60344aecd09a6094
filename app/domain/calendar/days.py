"""What kind of day a date is, from one of three sources, best first (pure; no database).

- entered: the company's own table (the State Council's notice, typed or uploaded each November);
- library: `chinese_calendar`, which carries the published schedules of the years it knows;
- provisional: only the fixed statutory days (元旦, 春節 with 除夕, 清明, 勞動節, 端午, 中秋, 國慶),
  the lunar ones computed by `holidays`. Its extra "observed" days are its own guess at the
  notice and are left out, and it knows no adjusted working days (調休上班) for such years.

A year is answered by one source as a whole: once a company has entered days for a year, the
days it did not enter are plain workdays and weekends, whatever the libraries say.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import chinese_calendar
import holidays


class DayKind(StrEnum):
    """What the table (and an upload) may say of a date."""

    holiday = "holiday"  # a day off: the statutory day or a day taken off around it
    workday = "workday"  # a Saturday or Sunday worked in exchange (調休上班)


class DayType(StrEnum):
    workday = "workday"
    weekend = "weekend"
    holiday = "holiday"  # a public holiday (法定節假日 and the days taken off around it)
    adjusted_workday = "adjusted_workday"  # a weekend day worked in exchange (調休上班)


class Source(StrEnum):
    entered = "entered"
    library = "library"
    provisional = "provisional"


@dataclass(frozen=True)
class Entry:
    kind: DayKind
    name: str


@dataclass(frozen=True)
class CalendarDay:
    day: date
    type: DayType
    holiday_name: str | None = None
    source: Source = Source.library

    @property
    def needs_duty_roster(self) -> bool:
        # The office closes on public holidays; someone must be rostered (§5.1).
        return self.type == DayType.holiday

    @property
    def is_workday(self) -> bool:
        return self.type in (DayType.workday, DayType.adjusted_workday)


YearEntries = Mapping[date, Entry]


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


_LIBRARY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春節", "Tomb-sweeping Day": "清明節", "Labour Day": "勞動節",
    "Dragon Boat Festival": "端午節", "National Day": "國慶節", "Mid-autumn Festival": "中秋節",
    "Anti-Fascist 70th Day": "抗戰勝利70周年紀念日",
}


@lru_cache(maxsize=256)
def library_year(year: int) -> YearEntries | None:
    """The year's published schedule from chinese_calendar; None for a year it does not know."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
        chinese_calendar.get_holiday_detail(date(year, 12, 31))
    except NotImplementedError:
        return None
    out: dict[date, Entry] = {}
    for day in _days_of(year):
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if on_holiday and name is not None:
            out[day] = Entry(DayKind.holiday, _LIBRARY_NAMES.get(name, name))
        elif not on_holiday and is_weekend(day):
            out[day] = Entry(DayKind.workday, _LIBRARY_NAMES.get(name, name) if name else "")
    return out


# The statutory days as `holidays` names them (en_US); 除夕 is part of the Spring Festival since 2025.
_STATUTORY_NAMES = {
    "New Year's Day": "元旦", "Chinese New Year's Eve": "春節", "Chinese New Year (Spring Festival)": "春節",
    "Tomb-Sweeping Day": "清明節", "Labor Day": "勞動節", "Dragon Boat Festival": "端午節",
    "Mid-Autumn Festival": "中秋節", "National Day": "國慶節",
}


@lru_cache(maxsize=256)
def provisional_year(year: int) -> YearEntries:
    """The fixed statutory days of the year, nothing else (no observed days, no 調休)."""
    found = holidays.country_holidays("CN", years=year, observed=False, language="en_US")
    out: dict[date, Entry] = {}
    for day in sorted(found):
        names = [_STATUTORY_NAMES[n] for n in found.get_list(day) if n in _STATUTORY_NAMES]
        if names:
            out[day] = Entry(DayKind.holiday, names[0])
    return out


def resolve(day: date, entered: YearEntries | None) -> CalendarDay:
    """The day by the company's entries for its year when there are any, else by the libraries."""
    if entered is not None:
        return _from(day, entered, Source.entered)
    library = library_year(day.year)
    if library is not None:
        return _from(day, library, Source.library)
    return _from(day, provisional_year(day.year), Source.provisional)


def year_source(year: int, *, entered: bool) -> Source:
    if entered:
        return Source.entered
    return Source.library if library_year(year) is not None else Source.provisional


def fallback_year(year: int) -> tuple[Source, YearEntries]:
    """What answers a year the company has entered nothing for."""
    library = library_year(year)
    return (Source.library, library) if library is not None else (Source.provisional, provisional_year(year))


def _from(day: date, entries: YearEntries, source: Source) -> CalendarDay:
    entry = entries.get(day)
    weekend = is_weekend(day)
    if entry is None:
        return CalendarDay(day, DayType.weekend if weekend else DayType.workday, None, source)
    if entry.kind == DayKind.holiday:
        return CalendarDay(day, DayType.holiday, entry.name or None, source)
    return CalendarDay(day, DayType.adjusted_workday if weekend else DayType.workday, entry.name or None, source)
