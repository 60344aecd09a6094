"""What clients send to and get from attendance and the duty roster."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.domain.attendance.model import AttendanceStatus, Shift
from app.domain.calendar.days import DayType, Source
from app.domain.types import EXACT_DAY, InputModel, text
from app.domain.versions import RowVersion

Note = Annotated[str, text(200, min_length=0)]
MONTH_PATTERN = r"^(20\d{2})-(0[1-9]|1[0-2])$"
# Dates the API takes; years nobody has entered or published are answered provisionally.
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31)), EXACT_DAY]


class SignIn(InputModel):
    shift: Shift | None = Field(default=None, description="Default: the morning until it closes, then the afternoon")
    note: Note = ""


class SignOut(InputModel):
    shift: Shift | None = Field(default=None, description="Default: today's latest shift still signed in")
    note: Note = ""


class AttendanceRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    day: date
    shift: Shift
    status: AttendanceStatus
    due_by: datetime = Field(description="Signing in after this instant is late (7:50 for an 8:00 morning)")
    shift_end: datetime
    signed_in_at: datetime
    signed_out_at: datetime | None
    late: bool
    late_minutes: int
    left_early: bool
    early_minutes: int
    note: str


class AttendanceSummary(BaseModel):
    """One person's month at one estate."""

    user_id: uuid.UUID
    full_name: str
    shifts: int = Field(description="Shifts signed in")
    late: int
    late_minutes: int
    left_early: int
    early_minutes: int
    not_signed_out: int = Field(description="Shifts signed in and never signed out")


class MonthSummary(BaseModel):
    estate_id: uuid.UUID
    month: str
    workdays: int = Field(description="Working days of the month by the company's holiday calendar (調休 included)")
    calendar_source: Source = Field(description="Where the month's calendar comes from: entered, library, or provisional "
                                                "(only the statutory days, no 調休: the count may change once the year is entered)")
    people: list[AttendanceSummary]


class DutyAssignmentIn(InputModel):
    user_id: uuid.UUID
    note: Note = ""


class DutyDayIn(InputModel):
    """The full list of who is on duty on the day; an empty list clears it."""

    assignments: list[DutyAssignmentIn] = Field(max_length=50)


class OnDuty(BaseModel):
    user_id: uuid.UUID
    full_name: str
    note: str


class DutyDayRead(BaseModel):
    day: date
    version: RowVersion
    day_type: DayType
    holiday_name: str | None = Field(description="The public holiday (or the one an adjusted workday is worked for)")
    calendar_source: Source = Field(description="entered (the company's calendar), library, or provisional (statutory days only)")
    on_duty: list[OnDuty]
    uncovered: bool = Field(description="A public holiday with nobody on duty")


class DutyRosterRead(BaseModel):
    estate_id: uuid.UUID
    date_from: date
    date_to: date
    days: list[DutyDayRead]
    uncovered_days: list[date]
    provisional_days: list[date] = Field(description="Days of years whose schedule is not entered yet: only the statutory "
                                                     "holidays are known, 調休 not")
