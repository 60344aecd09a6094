"""Proration and corrections (issue 17): a unit's billing period, cancelling and rebilling charges."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from starlette import status

from app.api.deps import SessionDep, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import AlreadyExists, IllegalTransition
from app.domain.fees.billing.charges import ChargeNotFound
from app.domain.fees.billing.schemas import ChargeRead
from app.domain.fees.corrections import service as corrections
from app.domain.fees.corrections.model import CancellationPending
from app.domain.fees.corrections.schemas import ChargeCancel, ChargeCancellationRead, ChargeRebill
from app.domain.fees.model import CancelNeedsReason
from app.domain.fees.prorate import service as billing_periods
from app.domain.fees.prorate.schemas import BillingPeriodPut, BillingPeriodRead
from app.domain.registry.errors import UnitNotFound

router = APIRouter(tags=["fees"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Configure = Annotated[Actor, Depends(require(Perm.fees_configure))]
Correct = Annotated[Actor, Depends(require(Perm.charges_cancel))]


@router.get("/units/{unit_id}/billing-period", response_model=BillingPeriodRead, responses=read_responses(UnitNotFound))
async def get_billing_period(unit_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> BillingPeriodRead:
    """The unit's move-in and move-out days; both null: every month is billed whole."""
    return tagged(response, BillingPeriodRead.model_validate(await billing_periods.get_period(session, actor=actor, unit_id=unit_id)))


@router.put("/units/{unit_id}/billing-period", response_model=BillingPeriodRead,
            responses=edit_responses(UnitNotFound, billing_periods.BilledToBeforeFrom, AlreadyExists))
async def put_billing_period(
    unit_id: uuid.UUID, body: BillingPeriodPut, actor: Configure, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> BillingPeriodRead:
    """Set the first (move-in) and last (move-out) day billed. The billing run prorates the months
    they fall in by days; months billed already keep their charges (correct one by cancel and rebill)."""
    row = await billing_periods.put_period(session, actor=actor, unit_id=unit_id, data=body, expected_version=expected)
    return tagged(response, BillingPeriodRead.model_validate(row))


ASKED: dict[int | str, dict[str, Any]] = {status.HTTP_202_ACCEPTED: {
    "model": ChargeCancellationRead,
    "description": "Money was paid on the charge (or its late fees): the cancellation is asked for, and waits for "
                   "another person's approval (Location: the request)",
    "headers": {"Location": {"description": "The cancellation request", "schema": {"type": "string"}}},
}}


def _location(status_code: int, body: dict[str, Any]) -> dict[str, str]:
    return {"Location": f"/api/v1/charge-cancellations/{body['id']}"} if status_code == status.HTTP_202_ACCEPTED else {}


@router.post("/charges/{charge_id}/cancel", response_model=ChargeRead,
             responses={**problems(ChargeNotFound, IllegalTransition, CancelNeedsReason, CancellationPending), **ASKED})
@idempotent(status.HTTP_200_OK, headers=_location)
async def cancel_charge(charge_id: uuid.UUID, body: ChargeCancel, actor: Correct, session: SessionDep) -> ChargeRead | JSONResponse:
    """Cancel a wrong charge with its reason: kept as billed, it owes nothing; the late fees posted
    on it are cancelled with it (200, the charge). Money paid on it or on its late fees: the
    cancellation is asked for instead (202, the request, Location naming it; 409
    cancellation-pending while one waits). Another person approves it
    (POST /charge-cancellations/{id}/approve): the money moves to the unit's prepaid account, the
    receipts stay valid, and the charge is cancelled."""
    result = await corrections.cancel(session, actor=actor, charge_id=charge_id, data=body)
    if isinstance(result, ChargeCancellationRead):
        content = result.model_dump(mode="json")
        return JSONResponse(content, status_code=status.HTTP_202_ACCEPTED, headers=_location(status.HTTP_202_ACCEPTED, content))
    return ChargeRead.model_validate(result)


@router.post("/charges/{charge_id}/rebill", response_model=ChargeRead, status_code=status.HTTP_201_CREATED,
             responses=problems(ChargeNotFound, corrections.ChargeNotCancelled, corrections.ChargeAlreadyReplaced,
                                corrections.NothingToRebill))
@idempotent(status.HTTP_201_CREATED)
async def rebill_charge(charge_id: uuid.UUID, body: ChargeRebill, actor: Correct, session: SessionDep) -> ChargeRead:
    """Bill the right charge in place of a cancelled one (replaces_id): the amount sent, or for a
    billing-run charge left out, the month recomputed as the run would bill it now."""
    return ChargeRead.model_validate(await corrections.rebill(session, actor=actor, charge_id=charge_id, data=body))
