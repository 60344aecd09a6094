"""The company's holiday calendar (§5.1): statutory holidays and adjusted working days (調休上班), by year."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, UploadFile
from starlette import status

from app.api.deps import SessionDep, SettingsDep, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent
from app.api.roster import TOO_LARGE, _read_capped
from app.domain import files
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.calendar import service
from app.domain.calendar.schemas import (
    FIRST_YEAR,
    LAST_YEAR,
    HolidayDayCreate,
    HolidayDayRead,
    HolidayDayUpdate,
    HolidayYearIn,
    HolidayYearRead,
)
from app.domain.calendar.upload import CalendarHasErrors, CalendarUnreadable
from app.domain.types import EXACT_DAY, EXACT_INT

router = APIRouter(tags=["holiday calendar"])

Manage = Annotated[Actor, Depends(require(Perm.holiday_calendar_manage))]
YearPath = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description="The calendar year", examples=[2027]), EXACT_INT]
DayPath = Annotated[date, Path(ge=date(FIRST_YEAR, 1, 1), le=date(LAST_YEAR, 12, 31), description="The date"), EXACT_DAY]


@router.get("/holiday-calendar/{year}", response_model=HolidayYearRead, responses=read_responses())
async def get_year(year: YearPath, actor: Manage, session: SessionDep, response: Response) -> HolidayYearRead:
    """The year's holidays and adjusted working days as the roster and attendance use them.

    `entered`: the company's own days. Else `library`: the published schedule the calendar
    library carries. Else `provisional`: only the fixed statutory days (no 調休), until the
    year is entered; admins see "not confirmed" in their attention queue from 1 November before.
    """
    return tagged(response, await service.list_year(session, actor=actor, year=year))


@router.put("/holiday-calendar/{year}", response_model=HolidayYearRead,
            responses=edit_responses(CalendarHasErrors))
async def replace_year(
    year: YearPath, body: HolidayYearIn, actor: Manage, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> HolidayYearRead:
    """Enter the whole year (the State Council's notice): replaces every day entered for the year, or nothing.

    Every date must be in the year and appear once; a `workday` is a Saturday or Sunday.
    Problems come back as 422 listing each row and field.
    """
    return tagged(response, await service.replace_year(session, actor=actor, year=year, data=body, expected_version=expected))


@router.post("/holiday-calendar/{year}/upload", response_model=HolidayYearRead,
             responses={**problems(CalendarHasErrors, CalendarUnreadable, files.FileTooLarge), **TOO_LARGE})
@idempotent(200)
async def upload_year(year: YearPath, file: UploadFile, actor: Manage, session: SessionDep, settings: SettingsDep) -> HolidayYearRead:
    """The same from a file: CSV with a header `date,kind,name` (UTF-8 or GB18030), or JSON
    (`{"days": [{"day", "kind", "name"}, ...]}`). Bad rows: 422 naming the line and column."""
    data = await _read_capped(file, settings.max_upload_bytes)
    return await service.upload_year(session, actor=actor, year=year, data=data)


@router.post("/holiday-calendar/days", response_model=HolidayDayRead, status_code=status.HTTP_201_CREATED,
             responses=problems(service.HolidayDayExists, service.YearNotEntered, CalendarHasErrors))
@idempotent(status.HTTP_201_CREATED)
async def add_day(body: HolidayDayCreate, actor: Manage, session: SessionDep) -> HolidayDayRead:
    """Add one date to an entered year (or to a year the library knows, whose schedule is copied in first)."""
    return await service.add_day(session, actor=actor, data=body)


@router.patch("/holiday-calendar/days/{day}", response_model=HolidayDayRead,
              responses=edit_responses(service.HolidayDayNotFound, CalendarHasErrors))
async def change_day(
    day: DayPath, body: HolidayDayUpdate, actor: Manage, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> HolidayDayRead:
    """Change an entered date's kind or name. Its ETag is its year's (GET /holiday-calendar/{year}): any edit of the year moves it."""
    return tagged(response, await service.change_day(session, actor=actor, on=day, data=body, expected_version=expected))


@router.delete("/holiday-calendar/days/{day}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problems(service.HolidayDayNotFound))
async def delete_day(day: DayPath, actor: Manage, session: SessionDep) -> None:
    """Take a date out of the calendar: it becomes a plain workday or weekend."""
    await service.delete_day(session, actor=actor, on=day)
