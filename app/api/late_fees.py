"""The estate's late-fee rules (滞纳金规则) and posting accrued late fees as charges (§5.2)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.status import HTTP_201_CREATED

from app.api.deps import SessionDep, require
from app.api.errors import problems
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.fees.late_fees import service as late_fees
from app.domain.fees.late_fees.schemas import LateFeePosting, LateFeeRuleCreate, LateFeeRuleRead
from app.domain.registry.errors import EstateNotFound, UnitNotFound

router = APIRouter(tags=["fees"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Configure = Annotated[Actor, Depends(require(Perm.fees_configure))]
# Posting is the first half of taking a payment (take_payment posts the same increment), so
# whoever takes payments may post ahead of it -- at the desk, with the owner there, so a
# waiver can be asked for before paying. It adds no money the estate's rule did not set.
Take = Annotated[Actor, Depends(require(Perm.payments_take))]


@router.get("/estates/{estate_id}/late-fee-rules", response_model=list[LateFeeRuleRead], responses=problems(EstateNotFound))
async def list_late_fee_rules(estate_id: uuid.UUID, actor: Read, session: SessionDep) -> list[LateFeeRuleRead]:
    """The estate's late-fee rules, oldest first. A charge accrues under the rule in force on its due date."""
    rules = await late_fees.list_rules(session, actor=actor, estate_id=estate_id)
    return [LateFeeRuleRead.model_validate(r) for r in rules]


@router.post("/estates/{estate_id}/late-fee-rules", response_model=LateFeeRuleRead, status_code=HTTP_201_CREATED,
             responses=problems(EstateNotFound, late_fees.FeeItemNotInEstate, late_fees.LateFeeRuleDateTaken,
                                late_fees.RuleWouldRewriteDueCharges))
@idempotent(HTTP_201_CREATED)
async def create_late_fee_rule(estate_id: uuid.UUID, body: LateFeeRuleCreate, actor: Configure,
                               session: SessionDep) -> LateFeeRuleRead:
    """A new version of the estate's late-fee rule, for charges falling due from `effective_from` on.

    It may not reach back over charges already due (409): they keep the rule of their due date.
    """
    rule = await late_fees.create_rule(session, actor=actor, estate_id=estate_id, data=body)
    return LateFeeRuleRead.model_validate(rule)


@router.post("/units/{unit_id}/late-fees", response_model=LateFeePosting, responses=problems(UnitNotFound))
@idempotent(200)
async def post_unit_late_fees(unit_id: uuid.UUID, actor: Take, session: SessionDep) -> LateFeePosting:
    """Post the late fees the unit's overdue charges accrued up to today, as charges of their own.

    What a payment today would post anyway, posted now so it can be waived before the owner pays.
    Posting again the same day posts nothing: only what accrued beyond what was posted is posted.
    """
    return await late_fees.post_for_unit(session, actor=actor, unit_id=unit_id)
