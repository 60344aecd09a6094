"""The pure rules of attendance and the duty roster: shift times, lateness (the calendar is app/domain/calendar)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from app.domain.attendance.model import Shift
from app.domain.errors import Invalid

# §7.1: at one's post at 7:50 for an 8:00 opening: the deadline is this long before the shift opens.
SIGN_IN_LEAD = timedelta(minutes=10)
# A sign-in this long before the shift opens is accepted; earlier is a mistake (or the wrong shift).
SIGN_IN_WINDOW = timedelta(hours=2)


class ShiftOver(Invalid):
    title = "The shift is over; it can no longer be signed in"
    title_zh = "该班次已结束，不能再签到"


class TooEarlyToSignIn(Invalid):
    title = "The shift opens more than two hours from now; sign in closer to it"
    title_zh = "距离上班还有两小时以上；请临近时再签到"


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


def shift_times(hours: OfficeHours, shift: Shift, day: date, tz: tzinfo) -> ShiftTimes:
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
