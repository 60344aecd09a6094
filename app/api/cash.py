"""Cashier sessions and the day's cash hand-over to finance (交款, §5.4)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.files import PDF_RESPONSE, pdf_response
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.fees.cash import service as cash
from app.domain.fees.cash.handover_pdf import handover_pdf
from app.domain.fees.cash.model import DifferenceNeedsNote, SessionStatus
from app.domain.fees.cash.schemas import Acknowledge, CashHandoverSheet, CashierSessionDetail, CashierSessionRead, HandOver
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateClosed, EstateNotFound
from app.domain.types import EXACT_DAY

router = APIRouter(tags=["cash"])

# Reading is narrowed by the service: a cashier sees her own drawer, overseers every drawer.
Read = Annotated[Actor, Depends(require(Perm.fees_read))]
HandOverPerm = Annotated[Actor, Depends(require(Perm.cash_hand_over))]
AcknowledgePerm = Annotated[Actor, Depends(require(Perm.cash_acknowledge))]
Day = Annotated[date | None, Query(description="An estate-local day (YYYY-MM-DD)"), EXACT_DAY]
CashierSessionPage = Annotated[PageRequest, Depends(page_of(cash.CashierSessionSort))]
CashierSessionPage = CashierSessionPage


@router.get("/estates/{estate_id}/cashier-sessions", response_model=Page[CashierSessionRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_sessions(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: CashierSessionPage, day: Day = None,
    cashier_id: uuid.UUID | None = None, status: Annotated[SessionStatus | None, Query()] = None,
) -> Page[CashierSessionRead]:
    """The estate's cashier sessions, newest day first. A receptionist sees only her own; the
    supervisor, finance, the CS director and the administrator see every drawer.

    Sort by `day`, `status`, `handed_over_at` or `created_at` (prefix `-` for descending).
    """
    rows, total = await cash.list_sessions(session, actor=actor, estate_id=estate_id, page=page, day=day,
                                           cashier_id=cashier_id, status=status)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/estates/{estate_id}/cashier-sessions/current", response_model=CashierSessionDetail,
            responses=problems(EstateNotFound, cash.NoCashDrawer, EstateClosed))
async def current_cashier_session(estate_id: uuid.UUID, actor: HandOverPerm, session: SessionDep) -> CashierSessionDetail:
    """Your cashier session of today (the estate's local day), opened on first use: the takings so
    far per method, and its receipts. Asking again returns the same session."""
    return await cash.current_session(session, actor=actor, estate_id=estate_id)


@router.get("/estates/{estate_id}/cash-handover-sheet", response_model=CashHandoverSheet, responses=problems(EstateNotFound))
async def handover_sheet(estate_id: uuid.UUID, actor: Read, session: SessionDep, day: Day = None) -> CashHandoverSheet:
    """The day's hand-over sheet for finance (today by default): every session of the day with
    its expected takings, counted cash and difference, and the day's totals. Voids of receipts
    handed over earlier are listed apart under `adjustments` (receipt, amount, who voided it, when,
    the session its money went with); `net` is expected plus adjustments per method."""
    return await cash.handover_sheet(session, actor=actor, estate_id=estate_id, day=day)


@router.get("/cashier-sessions/{session_id}", response_model=CashierSessionDetail,
            responses=problems(cash.CashierSessionNotFound))
async def get_session(session_id: uuid.UUID, actor: Read, session: SessionDep) -> CashierSessionDetail:
    """One cashier session with its receipt lines (which count, which were voided) and the
    adjustments booked in it (voids of receipts from sessions already handed over). The
    adjustments are a section of their own: the expected money counts only what this drawer took."""
    return await cash.get_session(session, actor=actor, session_id=session_id)


@router.get("/cashier-sessions/{session_id}/handover-sheet.pdf", response_class=Response,
            responses={**PDF_RESPONSE, **problems(cash.CashierSessionNotFound)})
async def print_handover_sheet(session_id: uuid.UUID, actor: Read, session: SessionDep) -> Response:
    """The session's hand-over sheet to print and sign (交款单, PDF, A4): expected takings by method, cash
    counted, the difference and its note, every receipt (voids shown, counting nothing), the adjustments
    apart, and the lines for the cashier and finance. A session not yet handed over is marked 未交款."""
    filename, pdf = await handover_pdf(session, actor=actor, session_id=session_id)
    return pdf_response(pdf, filename=filename)


@router.post("/cashier-sessions/{session_id}/hand-over", response_model=CashierSessionDetail,
             responses=problems(cash.CashierSessionNotFound, cash.NotYourSession, IllegalTransition, DifferenceNeedsNote))
@idempotent(200)
async def hand_over_cash(session_id: uuid.UUID, body: HandOver, actor: HandOverPerm, session: SessionDep) -> CashierSessionDetail:
    """Hand the day's takings to finance: enter the cash counted in the drawer.

    The expected takings per method are fixed from the receipts at this moment; the difference
    (counted - expected cash) is recorded as it is, never forced to match, but a non-zero
    difference needs a `note` (422 without one). Afterwards no payment joins the session, and a
    later void is booked as an adjustment in the voider's current session, reported beside its
    drawer's figures, not in them. Handing over twice is a 409.
    """
    return await cash.hand_over(session, actor=actor, session_id=session_id, data=body)


@router.post("/cashier-sessions/{session_id}/acknowledge", response_model=CashierSessionDetail,
             responses=problems(cash.CashierSessionNotFound, cash.OwnHandOverAcknowledged, IllegalTransition))
@idempotent(200)
async def acknowledge_handover(session_id: uuid.UUID, body: Acknowledge, actor: AcknowledgePerm,
                               session: SessionDep) -> CashierSessionDetail:
    """Finance takes a handed-over session. Finance never acknowledges its own drawer (403);
    acknowledging a session not yet handed over, or twice, is a 409."""
    return await cash.acknowledge(session, actor=actor, session_id=session_id, data=body)
