"""Proration and corrections (issue 17): a unit's billing period, cancelling and rebilling charges."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette import status

from app.api.deps import SessionDep, require
from app.api.errors import problems
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import AlreadyExists, IllegalTransition
from app.domain.fees.billing.charges import ChargeNotFound
from app.domain.fees.billing.schemas import ChargeRead
from app.domain.fees.corrections import service as corrections
from app.domain.fees.corrections.schemas import ChargeCancel, ChargeRebill
from app.domain.fees.model import CancelNeedsReason, ChargePaid
from app.domain.fees.prorate import service as billing_periods
from app.domain.fees.prorate.schemas import BillingPeriodPut, BillingPeriodRead
from app.domain.registry.errors import UnitNotFound

router = APIRouter(tags=["fees"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Configure = Annotated[Actor, Depends(require(Perm.fees_configure))]
Correct = Annotated[Actor, Depends(require(Perm.charges_cancel))]


@router.get("/units/{unit_id}/billing-period", response_model=BillingPeriodRead, responses=problems(UnitNotFound))
async def get_billing_period(unit_id: uuid.UUID, actor: Read, session: SessionDep) -> BillingPeriodRead:
    """The unit's move-in and move-out days; both null: every month is billed whole."""
    return BillingPeriodRead.model_validate(await billing_periods.get_period(session, actor=actor, unit_id=unit_id))


@router.put("/units/{unit_id}/billing-period", response_model=BillingPeriodRead,
            responses=problems(UnitNotFound, billing_periods.BilledToBeforeFrom, AlreadyExists))
async def put_billing_period(unit_id: uuid.UUID, body: BillingPeriodPut, actor: Configure, session: SessionDep) -> BillingPeriodRead:
    """Set the first (move-in) and last (move-out) day billed. The billing run prorates the months
    they fall in by days; months billed already keep their charges (correct one by cancel and rebill)."""
    return BillingPeriodRead.model_validate(await billing_periods.put_period(session, actor=actor, unit_id=unit_id, data=body))


@router.post("/charges/{charge_id}/cancel", response_model=ChargeRead,
             responses=problems(ChargeNotFound, ChargePaid, IllegalTransition, CancelNeedsReason))
@idempotent(status.HTTP_200_OK)
async def cancel_charge(charge_id: uuid.UUID, body: ChargeCancel, actor: Correct, session: SessionDep) -> ChargeRead:
    """Cancel a wrong charge with its reason: kept as billed, it owes nothing. Money paid on it is
    refused (409 charge-paid): void the payment's receipt first, then cancel. The late fees posted
    on it are cancelled with it."""
    return ChargeRead.model_validate(await corrections.cancel(session, actor=actor, charge_id=charge_id, data=body))


@router.post("/charges/{charge_id}/rebill", response_model=ChargeRead, status_code=status.HTTP_201_CREATED,
             responses=problems(ChargeNotFound, corrections.ChargeNotCancelled, corrections.ChargeAlreadyReplaced,
                                corrections.NothingToRebill))
@idempotent(status.HTTP_201_CREATED)
async def rebill_charge(charge_id: uuid.UUID, body: ChargeRebill, actor: Correct, session: SessionDep) -> ChargeRead:
    """Bill the right charge in place of a cancelled one (replaces_id): the amount sent, or for a
    billing-run charge left out, the month recomputed as the run would bill it now."""
    return ChargeRead.model_validate(await corrections.rebill(session, actor=actor, charge_id=charge_id, data=body))
