"""What admins send to and get from the holiday calendar."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from app.domain.calendar.days import DayKind, Source
from app.domain.types import EXACT_DAY, InputModel, text
from app.domain.versions import RowVersion

FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_DAYS_A_YEAR = 100  # a real notice names about 40
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)]
Day = Annotated[date, Field(ge=date(FIRST_YEAR, 1, 1), le=date(LAST_YEAR, 12, 31)), EXACT_DAY]
HolidayName = Annotated[str, text(40)]


class HolidayDayCreate(InputModel):
    """One date of the notice: a day off, or a Saturday/Sunday worked in exchange (調休上班)."""

    day: Day
    kind: DayKind
    name: HolidayName = Field(description="The holiday, e.g. 春节, 国庆节 (for a workday: the one it is worked for)")


class HolidayDayUpdate(InputModel):
    kind: DayKind | None = None
    name: HolidayName | None = None


class HolidayYearIn(InputModel):
    """The whole year's schedule; it replaces every day entered for the year."""

    days: list[HolidayDayCreate] = Field(min_length=1, max_length=MAX_DAYS_A_YEAR)


class HolidayDayRead(BaseModel):
    day: date
    kind: DayKind
    name: str
    source: Source
    version: RowVersion


class HolidayYearRead(BaseModel):
    year: int
    version: RowVersion
    source: Source = Field(description="entered: the company's own days; library: the published schedule chinese_calendar "
                                       "carries; provisional: only the fixed statutory days (no 調休), until entered")
    confirmed: bool = Field(description="False while the year is provisional")
    days: list[HolidayDayRead]
