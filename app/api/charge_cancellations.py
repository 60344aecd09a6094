"""Cancelling a charge money was paid on (issue 17): the requests, and deciding them."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.fees.corrections import cancellations
from app.domain.fees.corrections.model import (
    CancellationDecisionNeedsReason,
    CancellationState,
    ChargeChangedSinceRequest,
    OwnCancellationApproved,
)
from app.domain.fees.corrections.schemas import CancellationDecision, ChargeCancellationList, ChargeCancellationRead
from app.domain.pagination import PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound

router = APIRouter(tags=["charge cancellations"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Ask = Annotated[Actor, Depends(require(Perm.charges_cancel))]
Approve = Annotated[Actor, Depends(require(Perm.charge_cancellations_approve))]
CancellationPage = Annotated[PageRequest, Depends(page_of(cancellations.CancellationSort))]
OptionalDecision = Annotated[CancellationDecision | None, Body()]
NOT_FOUND = cancellations.CancellationNotFound


@router.get("/estates/{estate_id}/charge-cancellations", response_model=ChargeCancellationList,
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_cancellations(estate_id: uuid.UUID, actor: Read, session: SessionDep, page: CancellationPage,
                             status: CancellationState | None = None,
                             charge_id: uuid.UUID | None = None) -> ChargeCancellationList:
    """The estate's requests to cancel paid charges, newest first; `status=requested` is the approver's queue."""
    return await cancellations.list_cancellations(session, actor=actor, estate_id=estate_id, page=page, status=status,
                                                  charge_id=charge_id)


@router.get("/charge-cancellations/{cancellation_id}", response_model=ChargeCancellationRead, responses=problems(NOT_FOUND))
async def get_cancellation(cancellation_id: uuid.UUID, actor: Read, session: SessionDep) -> ChargeCancellationRead:
    """One request with who asked, who decided, when and why, and what may be done with it now."""
    return await cancellations.get_cancellation(session, actor=actor, cancellation_id=cancellation_id)


@router.post("/charge-cancellations/{cancellation_id}/approve", response_model=ChargeCancellationRead,
             responses=problems(NOT_FOUND, IllegalTransition, OwnCancellationApproved, ChargeChangedSinceRequest))
@idempotent(200)
async def approve_cancellation(cancellation_id: uuid.UUID, actor: Approve, session: SessionDep,
                               body: OptionalDecision = None) -> ChargeCancellationRead:
    """Approve: every payment's part on the charge and its late fees is reversed and put into the unit's
    prepaid account (更正转存, naming the receipt, which stays valid), and the charge is cancelled with
    its late fees, all at once; the next deduction settles its replacement from that money. Not by
    the person who asked (403 own-cancellation-approved); 409 charge-changed-since-request when the
    charge was cancelled or its money changed since it was asked: reject it and ask again."""
    return await cancellations.approve(session, actor=actor, cancellation_id=cancellation_id,
                                       data=body or CancellationDecision())


@router.post("/charge-cancellations/{cancellation_id}/reject", response_model=ChargeCancellationRead,
             responses=problems(NOT_FOUND, IllegalTransition, CancellationDecisionNeedsReason))
@idempotent(200)
async def reject_cancellation(cancellation_id: uuid.UUID, body: CancellationDecision, actor: Approve,
                              session: SessionDep) -> ChargeCancellationRead:
    """Refuse the request, saying why (422 naming `reason` without one): the charge and its money stay."""
    return await cancellations.decide(session, actor=actor, cancellation_id=cancellation_id, action="reject", data=body)


@router.post("/charge-cancellations/{cancellation_id}/withdraw", response_model=ChargeCancellationRead,
             responses=problems(NOT_FOUND, IllegalTransition, CancellationDecisionNeedsReason,
                                cancellations.NotYourCancellation))
@idempotent(200)
async def withdraw_cancellation(cancellation_id: uuid.UUID, body: CancellationDecision, actor: Ask,
                                session: SessionDep) -> ChargeCancellationRead:
    """Take back a request not yet decided, saying why: the asker, or an approver."""
    return await cancellations.decide(session, actor=actor, cancellation_id=cancellation_id, action="withdraw", data=body)
