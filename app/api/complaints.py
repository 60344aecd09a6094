"""Owners' complaints (業主投訴記錄本, 業主投訴處置單, §4.4): register, handle, resolve, owner's feedback."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.complaints import service, settings, stats
from app.domain.complaints.model import Category, ComplaintNeedsText, ComplaintStatus, Severity
from app.domain.complaints.schemas import (
    AssignCreate,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintRead,
    ComplaintStats,
    DeadlinesRead,
    DeadlinesWrite,
    FeedbackCreate,
    ReasonCreate,
    ResolveCreate,
    StepCreate,
)
from app.domain.errors import IllegalTransition
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound
from app.domain.types import EXACT_DAY, QueryFlag

router = APIRouter(tags=["complaints"])

Read = Annotated[Actor, Depends(require(Perm.complaints_read))]
Write = Annotated[Actor, Depends(require(Perm.complaints_write))]
Manage = Annotated[Actor, Depends(require(Perm.complaints_manage))]
Day = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2999, 12, 31), description="Estate-local day, inclusive"), EXACT_DAY]
ComplaintPage = Annotated[PageRequest, Depends(page_of(service.ComplaintSort))]
ComplaintPage = ComplaintPage
NotFound = service.ComplaintNotFound


@router.post("/estates/{estate_id}/complaints", response_model=ComplaintDetail, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateNotFound, service.ComplaintRefNotInEstate, service.ComplaintTimeOutOfRange))
@idempotent(status.HTTP_201_CREATED)
async def register_complaint(estate_id: uuid.UUID, body: ComplaintCreate, actor: Write, session: SessionDep) -> ComplaintDetail:
    """Register a complaint in the record book: who, which unit, how it came in, what happened, how severe.

    It gets the estate's next number (TS-2026-0001) and a deadline from the estate's
    setting for its severity, counted from when it was received.
    """
    return await service.register(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/complaints", response_model=Page[ComplaintRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_complaints(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: ComplaintPage,
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
    category: Category | None = None, severity: Severity | None = None,
    overdue: Annotated[QueryFlag | None, Query(description="true: unresolved and past the deadline; false: the others")] = None,
    handler_id: uuid.UUID | None = None, received_from: Day = None, received_to: Day = None,
) -> Page[ComplaintRead]:
    """The complaint record book, latest received first (sort by received_at, deadline, number, status, severity, category)."""
    rows, total = await service.list_complaints(
        session, actor=actor, estate_id=estate_id, page=page, status=status_, category=category, severity=severity,
        overdue=overdue, handler_id=handler_id, received_from=received_from, received_to=received_to)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/complaints/{complaint_id}", response_model=ComplaintDetail, responses=problems(NotFound))
async def get_complaint(complaint_id: uuid.UUID, actor: Read, session: SessionDep) -> ComplaintDetail:
    """One complaint with its disposition form: every step, resolution, escalation and owner's answer."""
    return await service.get_complaint(session, actor=actor, complaint_id=complaint_id)


@router.post("/complaints/{complaint_id}/assign", response_model=ComplaintDetail,
             responses=problems(NotFound, IllegalTransition, service.HandlerNotInEstate))
@idempotent(200)
async def assign_handler(complaint_id: uuid.UUID, body: AssignCreate, actor: Manage, session: SessionDep) -> ComplaintDetail:
    """Give the complaint to a handler (a staff member of the estate), or hand it to another."""
    return await service.assign(session, actor=actor, complaint_id=complaint_id, data=body)


@router.post("/complaints/{complaint_id}/steps", response_model=ComplaintDetail, status_code=status.HTTP_201_CREATED,
             responses=problems(NotFound, IllegalTransition, ComplaintNeedsText, service.HandlerNotInEstate,
                                service.ComplaintTimeOutOfRange))
@idempotent(status.HTTP_201_CREATED)
async def add_step(complaint_id: uuid.UUID, body: StepCreate, actor: Write, session: SessionDep) -> ComplaintDetail:
    """Record a disposition step: what was done, by whom, when. The first one puts an assigned complaint in progress."""
    return await service.add_step(session, actor=actor, complaint_id=complaint_id, data=body)


@router.post("/complaints/{complaint_id}/resolve", response_model=ComplaintDetail,
             responses=problems(NotFound, IllegalTransition, ComplaintNeedsText))
@idempotent(200)
async def resolve_complaint(complaint_id: uuid.UUID, body: ResolveCreate, actor: Manage, session: SessionDep) -> ComplaintDetail:
    """Record how the complaint was resolved; it then waits for the owner's feedback."""
    return await service.resolve(session, actor=actor, complaint_id=complaint_id, data=body)


@router.post("/complaints/{complaint_id}/feedback", response_model=ComplaintDetail,
             responses=problems(NotFound, IllegalTransition, ComplaintNeedsText))
@idempotent(200)
async def owner_feedback(complaint_id: uuid.UUID, body: FeedbackCreate, actor: Write, session: SessionDep) -> ComplaintDetail:
    """The owner's answer on the resolution: satisfied closes it; not satisfied (with a note) reopens it with a new deadline."""
    return await service.feedback(session, actor=actor, complaint_id=complaint_id, data=body)


@router.post("/complaints/{complaint_id}/escalate", response_model=ComplaintDetail,
             responses=problems(NotFound, IllegalTransition, ComplaintNeedsText))
@idempotent(200)
async def escalate_complaint(complaint_id: uuid.UUID, body: ReasonCreate, actor: Write, session: SessionDep) -> ComplaintDetail:
    """Hand the complaint to the CS director, who holds it until it is resolved."""
    return await service.escalate(session, actor=actor, complaint_id=complaint_id, data=body)


@router.post("/complaints/{complaint_id}/withdraw", response_model=ComplaintDetail,
             responses=problems(NotFound, IllegalTransition, ComplaintNeedsText))
@idempotent(200)
async def withdraw_complaint(complaint_id: uuid.UUID, body: ReasonCreate, actor: Manage, session: SessionDep) -> ComplaintDetail:
    """The owner withdrew the complaint; the reason is kept."""
    return await service.withdraw(session, actor=actor, complaint_id=complaint_id, data=body)


@router.get("/estates/{estate_id}/complaint-deadlines", response_model=DeadlinesRead, responses=read_responses(EstateNotFound))
async def get_deadlines(estate_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> DeadlinesRead:
    """The time the estate gives itself to resolve a complaint, per severity (defaults: urgent 24 h, high 3 days, normal 7, low 15)."""
    return tagged(response, await settings.get_deadlines(session, actor=actor, estate_id=estate_id))


@router.put("/estates/{estate_id}/complaint-deadlines", response_model=DeadlinesRead,
            responses=edit_responses(EstateNotFound, settings.DeadlinesOutOfOrder))
async def put_deadlines(
    estate_id: uuid.UUID, body: DeadlinesWrite, actor: Manage, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> DeadlinesRead:
    """Set all four severities' deadlines; complaints registered or reopened from now on get them."""
    return tagged(response, await settings.put_deadlines(session, actor=actor, estate_id=estate_id, data=body, expected_version=expected))


@router.get("/estates/{estate_id}/complaint-stats", response_model=ComplaintStats, responses=problems(EstateNotFound, stats.InvalidMonth))
async def complaint_stats(
    estate_id: uuid.UUID, actor: Read, session: SessionDep,
    month: Annotated[str | None, Query(pattern=r"^2\d{3}-(0[1-9]|1[0-2])$", description="YYYY-MM; default this estate-local month",
                                       examples=["2026-11"])] = None,
) -> ComplaintStats:
    """The month's complaints by category and outcome: received, resolved in time or late, open, overdue,
    withdrawn, closed, and the owners' satisfied / not satisfied answers and rate."""
    return await stats.monthly(session, actor=actor, estate_id=estate_id, month=month)
