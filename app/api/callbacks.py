"""Callbacks (回訪, §7.3.9) and the callback rate (§6.4)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.idempotency import idempotent
from app.api.ratelimit import REPORT_LIMIT, RateLimited
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.callbacks import rates, service
from app.domain.callbacks.model import CallbackStatus, ProblemNeedsNote, ScoreOutOfRange
from app.domain.callbacks.schemas import (
    AttemptCreate,
    CallbackDetail,
    CallbackRate,
    CallbackRateRecordRead,
    CallbackRead,
    OutcomeCreate,
    RatePeriod,
    ResolutionCreate,
)
from app.domain.errors import IllegalTransition
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound
from app.domain.repairs.model import ReasonRequired
from app.domain.types import EXACT_DAY, Instant, QueryFlag

router = APIRouter(tags=["callbacks"])

Read = Annotated[Actor, Depends(require(Perm.requests_read))]
Write = Annotated[Actor, Depends(require(Perm.callbacks_write))]
Resolve = Annotated[Actor, Depends(require(Perm.callbacks_resolve))]
Reports = Annotated[Actor, Depends(require(Perm.reports_read))]
RateWeekPage = Annotated[PageRequest, Depends(page_of(rates.RateWeekSort))]
CallbackPage = Annotated[PageRequest, Depends(page_of(service.CallbackSort))]
RateWeekPage = RateWeekPage
CallbackPage = CallbackPage


@router.get("/estates/{estate_id}/callbacks", response_model=Page[CallbackRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_callbacks(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: CallbackPage,
    status_: Annotated[CallbackStatus | None, Query(alias="status")] = None,
    overdue: Annotated[QueryFlag | None, Query(description="true: open and past due; false: the others")] = None,
    due_before: Annotated[Instant | None, Query(description="Due before this instant")] = None,
    technician_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None,
) -> Page[CallbackRead]:
    """The desk's callback worklist: whom to ring about which repair, by when (soonest due first).

    Each row carries the unit, the owner's name and phone, when the repair was completed,
    the due time (end of the 7th local day), the failed attempts so far and the last one.
    """
    rows, total = await service.list_callbacks(session, actor=actor, estate_id=estate_id, page=page, status=status_, overdue=overdue,
                                               due_before=due_before, technician_id=technician_id, unit_id=unit_id)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/callbacks/{callback_id}", response_model=CallbackDetail, responses=problems(service.CallbackNotFound))
async def get_callback(callback_id: uuid.UUID, actor: Read, session: SessionDep) -> CallbackDetail:
    """One callback with its log of failed attempts."""
    return await service.get_callback(session, actor=actor, callback_id=callback_id)


@router.post("/callbacks/{callback_id}/attempts", response_model=CallbackDetail, status_code=status.HTTP_201_CREATED,
             responses=problems(service.CallbackNotFound, IllegalTransition))
@idempotent(status.HTTP_201_CREATED)
async def log_attempt(callback_id: uuid.UUID, body: AttemptCreate, actor: Write, session: SessionDep) -> CallbackDetail:
    """Log a call that did not reach the owner (no answer, wrong number, owner busy: call later); the callback stays open."""
    return await service.log_attempt(session, actor=actor, callback_id=callback_id, data=body)


@router.post("/callbacks/{callback_id}/outcome", response_model=CallbackDetail,
             responses=problems(service.CallbackNotFound, IllegalTransition, ScoreOutOfRange, ProblemNeedsNote, ReasonRequired))
@idempotent(200)
async def record_outcome(callback_id: uuid.UUID, body: Annotated[OutcomeCreate, Body()], actor: Write,
                         session: SessionDep) -> CallbackDetail:
    """Record what the owner said.

    `{outcome: satisfied, score 1-5}` closes the order's callback. `{outcome: problem,
    action: reopen}` reopens the order for the desk to dispatch again; `action: escalate`
    hands it to the CS director, who must record a resolution.
    """
    return await service.record_outcome(session, actor=actor, callback_id=callback_id, data=body)


@router.post("/callbacks/{callback_id}/resolution", response_model=CallbackDetail,
             responses=problems(service.CallbackNotFound, IllegalTransition, ProblemNeedsNote, ReasonRequired))
@idempotent(200)
async def resolve_callback(callback_id: uuid.UUID, body: ResolutionCreate, actor: Resolve, session: SessionDep) -> CallbackDetail:
    """The CS director's resolution of an escalated callback: reopen the order, or close its callback."""
    return await service.resolve(session, actor=actor, callback_id=callback_id, data=body)


@router.get("/estates/{estate_id}/callback-rate", response_model=CallbackRate, dependencies=[REPORT_LIMIT],
            responses=problems(EstateNotFound, RateLimited))
async def callback_rate(
    estate_id: uuid.UUID, actor: Reports, session: SessionDep, period: RatePeriod = RatePeriod.week,
    date_: Annotated[date | None, Query(alias="date", ge=date(2000, 1, 1), le=date(2999, 12, 31),
                                        description="A day in the period; default today in the estate's time zone"), EXACT_DAY] = None,
    technician_id: uuid.UUID | None = None,
) -> CallbackRate:
    """The callback rate of an estate's week (ISO, from Monday) or month, optionally for one technician.

    Counts the callback rounds whose order was completed in the period; done within 7
    days means an outcome (satisfied, problem reopened, or escalated) was recorded by the
    due time. Target 60%; for the current week, how many more callbacks in time reach it.
    """
    return await rates.callback_rate(session, actor=actor, estate_id=estate_id, period=period, day=date_, technician_id=technician_id)


@router.get("/estates/{estate_id}/callback-rate/weeks", response_model=Page[CallbackRateRecordRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_rate_weeks(
    estate_id: uuid.UUID, actor: Reports, session: SessionDep, page: RateWeekPage, below_target: QueryFlag | None = None,
) -> Page[CallbackRateRecordRead]:
    """The weekly callback rates recorded every Monday, latest week first."""
    rows, total = await rates.list_weeks(session, actor=actor, estate_id=estate_id, page=page, below_target=below_target)
    return Page(items=[CallbackRateRecordRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)
