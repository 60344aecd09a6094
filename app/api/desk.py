"""The desk's own log books: visitors (§7.3.12), the shift log and hand-over (§7.2), the duty log
and the day's work diary (§7.3.15)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.desk import diary, duty_log, night_log, visitors
from app.domain.desk import shift_handover as handover
from app.domain.desk.common import InTheFuture, NeedsPerson, StaffNotInEstate
from app.domain.desk.model import (
    FollowUpAlreadyHandled,
    FollowUpsUnhandled,
    NoFollowUpNeeded,
    ShiftKind,
    ShiftStatus,
    TakeOverFromYourself,
)
from app.domain.desk.schemas import (
    AcceptCreate,
    Diary,
    DutyLogCreate,
    DutyLogRead,
    FollowUpCreate,
    HandOverCreate,
    LinkRef,
    LogEntryCreate,
    LogEntryRead,
    ShiftDetail,
    ShiftOpen,
    ShiftRead,
    VisitorCreate,
    VisitorRead,
)
from app.domain.errors import Forbidden, IllegalTransition
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound, UnitNotInEstate, UnreadablePhone
from app.domain.repairs.intake import service as intake
from app.domain.repairs.intake import settings as repair_settings
from app.domain.types import EXACT_DAY, QueryFlag

router = APIRouter()

Read = Annotated[Actor, Depends(require(Perm.desk_read))]
VisitorsWrite = Annotated[Actor, Depends(require(Perm.visitors_write))]
LogWrite = Annotated[Actor, Depends(require(Perm.night_log_write))]
HandOver = Annotated[Actor, Depends(require(Perm.shift_hand_over))]
DutyWrite = Annotated[Actor, Depends(require(Perm.duty_log_write))]
Day = Annotated[date | None, Query(alias="date", ge=date(2000, 1, 1), le=date(2999, 12, 31),
                                   description="An estate-local day; default today in the estate's time zone"), EXACT_DAY]
VisitorPage = Annotated[PageRequest, Depends(page_of(visitors.VisitorSort))]
ShiftPage = Annotated[PageRequest, Depends(page_of(handover.ShiftSort))]
NightLogPage = Annotated[PageRequest, Depends(page_of(night_log.NightLogSort))]
DutyLogPage = Annotated[PageRequest, Depends(page_of(duty_log.DutyLogSort))]
# A follow-up made a service request can fail the way intake fails.
INTAKE_ERRORS = (repair_settings.UnknownRepairCategory, intake.CategoryRequired, intake.NeedUnitOrLocation, UnitNotInEstate,
                 UnreadablePhone, Forbidden)

# --- visitors ------------------------------------------------------------------------------------


@router.post("/estates/{estate_id}/visitors", response_model=VisitorRead, status_code=status.HTTP_201_CREATED, tags=["visitors"],
             responses=problems(EstateNotFound, UnitNotInEstate, visitors.OwnerNotInEstate, visitors.LinkedRecordNotFound,
                                InTheFuture, NeedsPerson))
@idempotent(status.HTTP_201_CREATED)
async def create_visitor(estate_id: uuid.UUID, body: VisitorCreate, actor: VisitorsWrite, session: SessionDep) -> VisitorRead:
    """Log a walk-in visitor: who, which unit, why, what the desk did, and the records the visit led to."""
    return await visitors.create_visitor(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/visitors", response_model=Page[VisitorRead], tags=["visitors"],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_visitors(estate_id: uuid.UUID, actor: Read, session: SessionDep, page: VisitorPage, day: Day = None,
                        unit_id: uuid.UUID | None = None) -> Page[VisitorRead]:
    """The day's visitors (estate-local day, default today) in the order they came."""
    rows, total = await visitors.list_visitors(session, actor=actor, estate_id=estate_id, page=page, day=day, unit_id=unit_id)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/visitors/{visitor_id}", response_model=VisitorRead, tags=["visitors"], responses=problems(visitors.VisitorNotFound))
async def get_visitor(visitor_id: uuid.UUID, actor: Read, session: SessionDep) -> VisitorRead:
    """One visit with its links."""
    return await visitors.get_visitor(session, actor=actor, visitor_id=visitor_id)


@router.post("/visitors/{visitor_id}/links", response_model=VisitorRead, status_code=status.HTTP_201_CREATED, tags=["visitors"],
             responses=problems(visitors.VisitorNotFound, visitors.LinkedRecordNotFound, visitors.LinkAlreadyExists, NeedsPerson))
@idempotent(status.HTTP_201_CREATED)
async def add_visitor_link(visitor_id: uuid.UUID, body: LinkRef, actor: VisitorsWrite, session: SessionDep) -> VisitorRead:
    """Link a record made after the visit was logged: a service request, a payment or receipt, a complaint."""
    return await visitors.add_link(session, actor=actor, visitor_id=visitor_id, link=body)


# --- the shift log and hand-over -------------------------------------------------------------------


@router.post("/estates/{estate_id}/shifts", response_model=ShiftDetail, status_code=status.HTTP_201_CREATED, tags=["shift log"],
             responses=problems(EstateNotFound, handover.ShiftAlreadyOpen, handover.ShiftAlreadyLogged, InTheFuture, NeedsPerson))
@idempotent(status.HTTP_201_CREATED)
async def open_shift(estate_id: uuid.UUID, body: ShiftOpen, actor: LogWrite, session: SessionDep) -> ShiftDetail:
    """Open a shift's log book (one open per estate); entries are written into it until it is handed over."""
    return await handover.open_shift(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/shifts", response_model=Page[ShiftRead], tags=["shift log"],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_shifts(estate_id: uuid.UUID, actor: Read, session: SessionDep, page: ShiftPage,
                      status_: Annotated[ShiftStatus | None, Query(alias="status")] = None,
                      day: Day = None) -> Page[ShiftRead]:
    """The estate's shifts, latest first: who handed over, who took over and when."""
    rows, total = await handover.list_shifts(session, actor=actor, estate_id=estate_id, page=page, status=status_, shift_date=day)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/shifts/{shift_id}", response_model=ShiftDetail, tags=["shift log"], responses=problems(handover.ShiftNotFound))
async def get_shift(shift_id: uuid.UUID, actor: Read, session: SessionDep) -> ShiftDetail:
    """One shift with its log entries."""
    return await handover.get_shift(session, actor=actor, shift_id=shift_id)


@router.post("/estates/{estate_id}/shift-log", response_model=LogEntryRead, status_code=status.HTTP_201_CREATED,
             tags=["shift log"], responses=problems(EstateNotFound, night_log.NoOpenShift, IllegalTransition, InTheFuture, NeedsPerson))
@idempotent(status.HTTP_201_CREATED)
async def add_shift_log_entry(estate_id: uuid.UUID, body: LogEntryCreate, actor: LogWrite, session: SessionDep) -> LogEntryRead:
    """Write an event into the estate's open shift: time, place, what happened, action taken, needs follow-up."""
    return await night_log.log_entry(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/shift-log", response_model=Page[LogEntryRead], tags=["shift log"],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_log_entries(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: NightLogPage, day: Day = None, shift_id: uuid.UUID | None = None,
    needs_follow_up: QueryFlag | None = None,
    unhandled: Annotated[QueryFlag | None, Query(description="true: needs follow-up, neither assigned nor made a request")] = None,
) -> Page[LogEntryRead]:
    """The estate's log entries, latest first; `date` is the day their shift began."""
    rows, total = await night_log.list_entries(session, actor=actor, estate_id=estate_id, page=page, shift_date=day,
                                               shift_id=shift_id, needs_follow_up=needs_follow_up, unhandled=unhandled)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.post("/shifts/{shift_id}/hand-over", response_model=ShiftDetail, tags=["shift log"],
             responses=problems(handover.ShiftNotFound, IllegalTransition, NeedsPerson))
@idempotent(200)
async def hand_over_shift(shift_id: uuid.UUID, body: HandOverCreate, actor: HandOver, session: SessionDep) -> ShiftDetail:
    """The outgoing staff member hands the shift over; nothing more is logged into it."""
    return await handover.hand_over(session, actor=actor, shift_id=shift_id, data=body)


@router.post("/shift-log/{entry_id}/follow-up", response_model=LogEntryRead, tags=["shift log"],
             responses=problems(handover.LogEntryNotFound, handover.ShiftNotFound, IllegalTransition, NoFollowUpNeeded,
                                FollowUpAlreadyHandled, StaffNotInEstate, NeedsPerson, *INTAKE_ERRORS))
@idempotent(200)
async def dispose_follow_up(entry_id: uuid.UUID, body: FollowUpCreate, actor: HandOver, session: SessionDep) -> LogEntryRead:
    """Assign a handed-over item to a staff member of the estate, or register a service request for it."""
    return await handover.dispose_follow_up(session, actor=actor, entry_id=entry_id, data=body)


@router.post("/shifts/{shift_id}/accept", response_model=ShiftDetail, tags=["shift log"],
             responses=problems(handover.ShiftNotFound, IllegalTransition, TakeOverFromYourself, FollowUpsUnhandled,
                                handover.EntryNotInShift, NoFollowUpNeeded, FollowUpAlreadyHandled, StaffNotInEstate,
                                NeedsPerson, *INTAKE_ERRORS))
@idempotent(200)
async def accept_shift(shift_id: uuid.UUID, body: AcceptCreate, actor: HandOver, session: SessionDep) -> ShiftDetail:
    """The incoming staff member takes the shift over.

    Every entry needing follow-up must be assigned to a staff member of the estate or made a
    service request, before or in this call (`follow_ups`); otherwise 409 naming the items.
    """
    return await handover.accept(session, actor=actor, shift_id=shift_id, data=body)


# --- the duty log and the diary ------------------------------------------------------------------------


@router.post("/estates/{estate_id}/duty-log", response_model=DutyLogRead, status_code=status.HTTP_201_CREATED, tags=["duty log"],
             responses=problems(EstateNotFound, InTheFuture, NeedsPerson))
@idempotent(status.HTTP_201_CREATED)
async def create_duty_log_entry(estate_id: uuid.UUID, body: DutyLogCreate, actor: DutyWrite, session: SessionDep) -> DutyLogRead:
    """Write one's note of a shift (today or an earlier day); entries are kept as written."""
    return await duty_log.create_entry(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/duty-log", response_model=Page[DutyLogRead], tags=["duty log"],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_duty_log(estate_id: uuid.UUID, actor: Read, session: SessionDep, page: DutyLogPage, day: Day = None,
                        shift: ShiftKind | None = None, staff_id: uuid.UUID | None = None) -> Page[DutyLogRead]:
    """Duty log entries, latest day first, by shift within a day."""
    rows, total = await duty_log.list_entries(session, actor=actor, estate_id=estate_id, page=page, shift_date=day, shift=shift,
                                              staff_id=staff_id)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/estates/{estate_id}/diary", response_model=Diary, tags=["duty log"], responses=problems(EstateNotFound))
async def get_diary(estate_id: uuid.UUID, actor: Read, session: SessionDep, day: Day = None) -> Diary:
    """The work diary of an estate-local day: the duty log, the shift hand-overs, and the day's
    calls, visitors, requests, payments and callbacks counted from the records."""
    return await diary.diary(session, actor=actor, estate_id=estate_id, day=day)
