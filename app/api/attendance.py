"""Attendance (簽到, §7.1, §7.3.16) and the holiday duty roster (值班, §5.1)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, tagged
from app.api.idempotency import idempotent
from app.domain.attendance import duty_roster as roster
from app.domain.attendance import rules, service
from app.domain.attendance.model import Shift
from app.domain.attendance.schemas import (
    MONTH_PATTERN,
    AttendanceRead,
    Day,
    DutyDayIn,
    DutyDayRead,
    DutyRosterRead,
    MonthSummary,
    SignIn,
    SignOut,
)
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound
from app.domain.types import EXACT_DAY, QueryFlag

router = APIRouter(tags=["attendance"])

Sign = Annotated[Actor, Depends(require(Perm.attendance_sign))]
ReadAll = Annotated[Actor, Depends(require(Perm.attendance_read))]
RosterRead = Annotated[Actor, Depends(require(Perm.duty_roster_read))]
RosterManage = Annotated[Actor, Depends(require(Perm.duty_roster_manage))]
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM", examples=["2026-05"])]
DayPath = Annotated[date, Path(ge=date(2000, 1, 1), le=date(2099, 12, 31), description="The estate-local day"), EXACT_DAY]
AttendancePage = Annotated[PageRequest, Depends(page_of(service.AttendanceSort))]
AttendancePage = AttendancePage


@router.post("/estates/{estate_id}/attendance/sign-in", response_model=AttendanceRead, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateNotFound, service.AlreadySignedIn, service.PersonOnly, rules.ShiftOver,
                                rules.TooEarlyToSignIn))
@idempotent(status.HTTP_201_CREATED)
async def sign_in_attendance(estate_id: uuid.UUID, body: SignIn, actor: Sign, session: SessionDep) -> AttendanceRead:
    """Sign in for a half-day shift at the estate; the time is the server's.

    The shift defaults to the morning until it closes (12:00), then the afternoon. Signing
    in after the deadline, 10 minutes before the shift opens (7:50 and 13:50 with the
    default office hours), is flagged late with the minutes. Once per person, day and shift.
    """
    return await service.sign_in(session, actor=actor, estate_id=estate_id, data=body)


@router.post("/estates/{estate_id}/attendance/sign-out", response_model=AttendanceRead,
             responses=problems(EstateNotFound, service.NotSignedIn, service.PersonOnly, IllegalTransition))
@idempotent(200)
async def sign_out_attendance(estate_id: uuid.UUID, body: SignOut, actor: Sign, session: SessionDep) -> AttendanceRead:
    """Sign out of today's shift (§7.3.16: after 12:00 and 18:00); before the shift closes is flagged early leave."""
    return await service.sign_out(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/attendance/mine", response_model=Page[AttendanceRead], responses=problems(UnknownSortKey))
async def my_attendance(
    actor: Sign, session: SessionDep, page: AttendancePage, date_from: Day | None = None, date_to: Day | None = None,
) -> Page[AttendanceRead]:
    """One's own sign-ins at every estate, latest first; sort by day, signed_in_at, late_minutes or early_minutes."""
    rows, total = await service.list_mine(session, actor=actor, page=page, date_from=date_from, date_to=date_to)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/estates/{estate_id}/attendance", response_model=Page[AttendanceRead], responses=problems(EstateNotFound, UnknownSortKey))
async def estate_attendance(
    estate_id: uuid.UUID, actor: ReadAll, session: SessionDep, page: AttendancePage, day: Day | None = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")] = None,
    user_id: uuid.UUID | None = None, shift: Shift | None = None, late: QueryFlag | None = None, left_early: QueryFlag | None = None,
) -> Page[AttendanceRead]:
    """The estate's attendance book for a day or a month, with the late and early-leave flags."""
    rows, total = await service.list_estate(session, actor=actor, estate_id=estate_id, page=page, day=day, month=month,
                                            user_id=user_id, shift=shift, late=late, left_early=left_early)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/estates/{estate_id}/attendance/summary", response_model=MonthSummary, responses=problems(EstateNotFound))
async def month_summary(estate_id: uuid.UUID, month: Month, actor: ReadAll, session: SessionDep) -> MonthSummary:
    """Each person's month at the estate: shifts signed, late and early leave (counts and minutes), not signed out."""
    return await service.month_summary(session, actor=actor, estate_id=estate_id, month=month)


@router.get("/estates/{estate_id}/duty-roster", response_model=DutyRosterRead, responses=problems(EstateNotFound, roster.RangeTooLong))
async def get_roster(
    estate_id: uuid.UUID, actor: RosterRead, session: SessionDep, date_from: Day | None = None, date_to: Day | None = None,
) -> DutyRosterRead:
    """Who is on duty on each day, with the day's public-holiday status (調休 included).

    Default: 14 days from today (estate-local); at most 92 days. A public holiday with
    nobody on duty is `uncovered`. Each day says where its status comes from: the company's
    holiday calendar (`entered`), the published schedule (`library`), or, for a year nobody
    has entered yet, only the statutory holidays (`provisional`, listed in `provisional_days`).
    """
    return await roster.get_roster(session, actor=actor, estate_id=estate_id, date_from=date_from, date_to=date_to)


@router.put("/estates/{estate_id}/duty-roster/{day}", response_model=DutyDayRead,
            responses=edit_responses(EstateNotFound, roster.NotStaffOfEstate, roster.DuplicateOnDuty))
async def put_day(
    estate_id: uuid.UUID, day: DayPath, body: DutyDayIn, actor: RosterManage, session: SessionDep, expected: ExpectedVersion,
    response: Response,
) -> DutyDayRead:
    """Set who is on duty at the estate on the day (the whole list; an empty list clears the day).
    Each day of GET /estates/{estate_id}/duty-roster carries its version for If-Match."""
    return tagged(response, await roster.put_day(session, actor=actor, estate_id=estate_id, day=day, data=body, expected_version=expected))


@router.delete("/estates/{estate_id}/duty-roster/{day}/{user_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problems(EstateNotFound, roster.DutyAssignmentNotFound))
async def remove_from_roster(estate_id: uuid.UUID, day: DayPath, user_id: uuid.UUID, actor: RosterManage,
                             session: SessionDep) -> None:
    """Take one person off the day's roster."""
    await roster.remove(session, actor=actor, estate_id=estate_id, day=day, user_id=user_id)
