"""The pure rules of attendance and the duty roster: shift times, lateness, the calendar's days."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from app.domain.attendance.model import Shift
from app.domain.errors import Invalid

# §7.1: at one's post at 7:50 for an 8:00 opening: the deadline is this long before the shift opens.
SIGN_IN_LEAD = timedelta(minutes=10)
# A sign-in this long before the shift opens is accepted; earlier is a mistake (or the wrong shift).
SIGN_IN_WINDOW = timedelta(hours=2)


class ShiftOver(Invalid):
    title = "The shift is over; it can no longer be signed in"


class TooEarlyToSignIn(Invalid):
    title = "The shift opens more than two hours from now; sign in closer to it"


@dataclass(frozen=True)
class OfficeHours:
    """An estate's two shifts (§5.1), local wall-clock times."""

    morning_open: time = time(8, 0)
    morning_close: time = time(12, 0)
    afternoon_open: time = time(14, 0)
    afternoon_close: time = time(18, 0)

    @classmethod
    def of(cls, estate: object) -> OfficeHours:
        return cls(**{k: getattr(estate, k) for k in ("morning_open", "morning_close", "afternoon_open", "afternoon_close")})

    def bounds(self, shift: Shift) -> tuple[time, time]:
        if shift == Shift.morning:
            return self.morning_open, self.morning_close
        return self.afternoon_open, self.afternoon_close


@dataclass(frozen=True)
class ShiftTimes:
    day: date
    shift: Shift
    opens: datetime
    due_by: datetime  # signing in after this is late
    closes: datetime


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def shift_times(hours: OfficeHours, shift: Shift, day: date, tz: ZoneInfo) -> ShiftTimes:
    opens, closes = hours.bounds(shift)
    start = datetime.combine(day, opens, tzinfo=tz)
    return ShiftTimes(day=day, shift=shift, opens=start, due_by=start - SIGN_IN_LEAD,
                      closes=datetime.combine(day, closes, tzinfo=tz))


def current_shift(hours: OfficeHours, local_now: datetime) -> Shift:
    """The shift a sign-in at this local time is for: the morning until it closes, then the afternoon."""
    return Shift.morning if local_now.time() < hours.morning_close else Shift.afternoon


def check_sign_in(times: ShiftTimes, now: datetime) -> None:
    if now >= times.closes:
        raise ShiftOver(field="shift", shift=times.shift.value, closed_at=times.closes.isoformat())
    if now < times.opens - SIGN_IN_WINDOW:
        raise TooEarlyToSignIn(field="shift", shift=times.shift.value, opens_at=times.opens.isoformat())


def minutes_late(times: ShiftTimes, signed_in_at: datetime) -> int:
    """Whole minutes after the deadline, counting a started minute: 7:50:30 is 1 minute late."""
    late = (signed_in_at - times.due_by).total_seconds()
    return 0 if late <= 0 else int(-(-late // 60))


# --- the calendar ---------------------------------------------------------------------------

class DayType(str, Enum):
    workday = "workday"
    weekend = "weekend"
    holiday = "holiday"  # a public holiday (法定節假日 and the days taken off around it)
    adjusted_workday = "adjusted_workday"  # a weekend day worked in exchange (調休上班)
    unknown = "unknown"  # a year the calendar library has no data for


@dataclass(frozen=True)
class CalendarDay:
    day: date
    type: DayType
    holiday_name: str | None = None

    @property
    def needs_duty_roster(self) -> bool:
        # The office closes on public holidays; someone must be rostered (§5.1).
        return self.type == DayType.holiday


def calendar_day(day: date) -> CalendarDay:
    """The day's status from chinese_calendar; `unknown` outside the years it covers, never an error."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return CalendarDay(day, DayType.unknown)
    weekend = day.weekday() >= 5
    if on_holiday and name is not None:
        return CalendarDay(day, DayType.holiday, _HOLIDAY_NAMES.get(name, name))
    if on_holiday:
        return CalendarDay(day, DayType.weekend)
    return CalendarDay(day, DayType.adjusted_workday if weekend else DayType.workday, _HOLIDAY_NAMES.get(name) if name else None)


def workdays(first: date, last: date) -> int | None:
    """Working days in [first, last] per the calendar; None when a year is not covered."""
    days = [calendar_day(first + timedelta(days=i)) for i in range((last - first).days + 1)]
    if any(d.type == DayType.unknown for d in days):
        return None
    return sum(d.type in (DayType.workday, DayType.adjusted_workday) for d in days)


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春節", "Tomb-sweeping Day": "清明節", "Labour Day": "勞動節",
    "Dragon Boat Festival": "端午節", "National Day": "國慶節", "Mid-autumn Festival": "中秋節",
    "Anti-Fascist 70th Day": "抗戰勝利70周年紀念日",
}
