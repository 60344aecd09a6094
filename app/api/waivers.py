"""Waivers and discounts (减免) on charges, and discount rules over a set of units (issue 17)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends
from starlette.status import HTTP_201_CREATED

from app.api.deps import SessionDep, SettingsDep, page_of, require
from app.api.errors import problems
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.fees.billing.items import FeeItemNotFound
from app.domain.fees.model import WaiverOverOutstanding
from app.domain.fees.waivers import prepay, rules
from app.domain.fees.waivers import service as waivers
from app.domain.fees.waivers.model import DecisionNeedsReason, SelfApproval, WaiverState
from app.domain.fees.waivers.schemas import (
    Decision,
    DiscountRuleCreate,
    DiscountRuleRead,
    PrepayGrantCreate,
    PrepayGrantRead,
    RuleApplied,
    RuleApply,
    WaiverCreate,
    WaiverList,
    WaiverRead,
)
from app.domain.pagination import PageRequest, UnknownSortKey
from app.domain.registry.errors import BuildingNotInEstate, EstateNotFound

router = APIRouter(tags=["waivers"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Ask = Annotated[Actor, Depends(require(Perm.waivers_request))]
Approve = Annotated[Actor, Depends(require(Perm.waivers_approve))]
Configure = Annotated[Actor, Depends(require(Perm.fees_configure))]
WaiverPage = Annotated[PageRequest, Depends(page_of(waivers.WaiverSort))]
OptionalDecision = Annotated[Decision | None, Body()]
CREATED = HTTP_201_CREATED


@router.post("/charges/{charge_id}/waivers", response_model=WaiverRead, status_code=CREATED,
             responses=problems(waivers.ChargeNotFound, waivers.PercentAboveHundred, waivers.ChargeNotWaivable,
                                waivers.WaiverMoreThanOwed))
@idempotent(CREATED)
async def request_waiver(charge_id: uuid.UUID, body: WaiverCreate, actor: Ask, session: SessionDep) -> WaiverRead:
    """Ask for a waiver (减免) on a charge still owing: `amount` yuan off, or `percentage` of the billed
    amount (10 = 10%), rounded half up to the fen, with the reason the bill will print. Nothing comes off
    until someone else approves it."""
    return await waivers.request_waiver(session, actor=actor, charge_id=charge_id, data=body)


@router.get("/estates/{estate_id}/waivers", response_model=WaiverList, responses=problems(EstateNotFound, UnknownSortKey))
async def list_waivers(estate_id: uuid.UUID, actor: Read, session: SessionDep, page: WaiverPage,
                       status: WaiverState | None = None, charge_id: uuid.UUID | None = None) -> WaiverList:
    """The estate's waivers, newest first; `status=requested` is the approver's queue."""
    return await waivers.list_waivers(session, actor=actor, estate_id=estate_id, page=page, status=status,
                                      charge_id=charge_id)


@router.get("/waivers/{waiver_id}", response_model=WaiverRead, responses=problems(waivers.WaiverNotFound))
async def get_waiver(waiver_id: uuid.UUID, actor: Read, session: SessionDep) -> WaiverRead:
    """One waiver with who asked, who decided, when and why, and what may be done with it now."""
    return await waivers.get_waiver(session, actor=actor, waiver_id=waiver_id)


@router.post("/waivers/{waiver_id}/approve", response_model=WaiverRead,
             responses=problems(waivers.WaiverNotFound, IllegalTransition, SelfApproval, waivers.FinanceApproves,
                                WaiverOverOutstanding))
@idempotent(200)
async def approve_waiver(waiver_id: uuid.UUID, actor: Approve, session: SessionDep, settings: SettingsDep,
                         body: OptionalDecision = None) -> WaiverRead:
    """Approve a requested waiver: its amount comes off what the charge owes, in a ledger line of its own
    (the billed amount stays). Not by the person who asked (403 self-approval); above
    PROPDESK_WAIVER_FINANCE_ABOVE by finance only (403 finance-approves). If payments have left less owing
    than the waiver, 409 waiver-over-outstanding: reject it and ask again."""
    return await waivers.approve(session, actor=actor, waiver_id=waiver_id, data=body or Decision(),
                                 finance_above=settings.waiver_finance_above)


@router.post("/waivers/{waiver_id}/reject", response_model=WaiverRead,
             responses=problems(waivers.WaiverNotFound, IllegalTransition, DecisionNeedsReason))
@idempotent(200)
async def reject_waiver(waiver_id: uuid.UUID, body: Decision, actor: Approve, session: SessionDep) -> WaiverRead:
    """Refuse a requested waiver, saying why (422 naming `reason` without one)."""
    return await waivers.decide(session, actor=actor, waiver_id=waiver_id, action="reject", data=body)


@router.post("/waivers/{waiver_id}/withdraw", response_model=WaiverRead,
             responses=problems(waivers.WaiverNotFound, IllegalTransition, DecisionNeedsReason, waivers.NotYourRequest))
@idempotent(200)
async def withdraw_waiver(waiver_id: uuid.UUID, body: Decision, actor: Ask, session: SessionDep) -> WaiverRead:
    """Take back a request not yet decided, saying why: the asker, or an approver."""
    return await waivers.decide(session, actor=actor, waiver_id=waiver_id, action="withdraw", data=body)


@router.post("/waivers/{waiver_id}/reverse", response_model=WaiverRead,
             responses=problems(waivers.WaiverNotFound, IllegalTransition, DecisionNeedsReason, waivers.FinanceApproves))
@idempotent(200)
async def reverse_waiver(waiver_id: uuid.UUID, body: Decision, actor: Approve, session: SessionDep,
                         settings: SettingsDep) -> WaiverRead:
    """Undo an approval made in error, saying why: the amount is owed again; the line stays, reversed."""
    return await waivers.reverse(session, actor=actor, waiver_id=waiver_id, data=body,
                                 finance_above=settings.waiver_finance_above)


# --- discount rules ----------------------------------------------------------------------

@router.post("/estates/{estate_id}/discount-rules", response_model=DiscountRuleRead, status_code=CREATED,
             responses=problems(EstateNotFound, FeeItemNotFound, waivers.PercentAboveHundred, rules.OneUnitSet,
                                rules.MonthsOutOfOrder, BuildingNotInEstate, rules.UnitsNotInEstate, rules.ValueRequired,
                                rules.PrepayTermsRequired, rules.PrepayTermsOnlyForPrepay, rules.FreeMonthsAbovePrepaid,
                                rules.ItemNotMonthly))
@idempotent(CREATED)
async def create_rule(estate_id: uuid.UUID, body: DiscountRuleCreate, actor: Configure, session: SessionDep) -> DiscountRuleRead:
    """Ask for a discount rule on a fee item over a set of units (`unit_ids`, or a `building_id`, or
    neither: every unit) for a range of months: `amount` yuan off each charge, `percentage` off, or
    `vacant_unit` (percent off the charges of units vacant when it is applied), or `prepay_months`
    (预交N个月送M个月: `prepay_months` N and `free_months` M, no `value`; it reaches a unit only by a
    grant, see POST /discount-rules/{id}/grants). Approved once, like a waiver, then applied to each
    month's charges."""
    return await rules.create_rule(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/discount-rules", response_model=list[DiscountRuleRead], responses=problems(EstateNotFound))
async def list_rules(estate_id: uuid.UUID, actor: Read, session: SessionDep) -> list[DiscountRuleRead]:
    """The estate's discount rules, oldest first."""
    return await rules.list_rules(session, actor=actor, estate_id=estate_id)


@router.get("/discount-rules/{rule_id}", response_model=DiscountRuleRead, responses=problems(rules.DiscountRuleNotFound))
async def get_rule(rule_id: uuid.UUID, actor: Read, session: SessionDep) -> DiscountRuleRead:
    """One discount rule."""
    return await rules.get_rule(session, actor=actor, rule_id=rule_id)


@router.post("/discount-rules/{rule_id}/approve", response_model=DiscountRuleRead,
             responses=problems(rules.DiscountRuleNotFound, IllegalTransition, SelfApproval, rules.FinanceApprovesRule))
@idempotent(200)
async def approve_rule(rule_id: uuid.UUID, actor: Approve, session: SessionDep, settings: SettingsDep,
                       body: OptionalDecision = None) -> DiscountRuleRead:
    """Approve a rule (not by who asked for it). Percentage and vacant-unit rules, and amounts above
    PROPDESK_WAIVER_FINANCE_ABOVE, are finance's to approve."""
    return await rules.decide(session, actor=actor, rule_id=rule_id, action="approve", data=body or Decision(),
                              finance_above=settings.waiver_finance_above)


@router.post("/discount-rules/{rule_id}/reject", response_model=DiscountRuleRead,
             responses=problems(rules.DiscountRuleNotFound, IllegalTransition, DecisionNeedsReason))
@idempotent(200)
async def reject_rule(rule_id: uuid.UUID, body: Decision, actor: Approve, session: SessionDep,
                      settings: SettingsDep) -> DiscountRuleRead:
    """Refuse a rule, saying why."""
    return await rules.decide(session, actor=actor, rule_id=rule_id, action="reject", data=body,
                              finance_above=settings.waiver_finance_above)


@router.post("/discount-rules/{rule_id}/withdraw", response_model=DiscountRuleRead,
             responses=problems(rules.DiscountRuleNotFound, IllegalTransition, DecisionNeedsReason))
@idempotent(200)
async def withdraw_rule(rule_id: uuid.UUID, body: Decision, actor: Configure, session: SessionDep,
                        settings: SettingsDep) -> DiscountRuleRead:
    """Take back a rule not yet decided, saying why."""
    return await rules.decide(session, actor=actor, rule_id=rule_id, action="withdraw", data=body,
                              finance_above=settings.waiver_finance_above)


@router.post("/discount-rules/{rule_id}/apply", response_model=RuleApplied,
             responses=problems(rules.DiscountRuleNotFound, rules.RuleNotApproved, rules.MonthOutsideRule))
@idempotent(200)
async def apply_rule(rule_id: uuid.UUID, body: RuleApply, actor: Configure, session: SessionDep) -> RuleApplied:
    """Apply an approved rule to a month's charges: one approved waiver line per matching charge still owing,
    never more than it owes. Idempotent: a charge the rule waived before is not waived again. The billing
    run applies the estate's approved rules to the month it bills by itself."""
    return await rules.apply_rule(session, actor=actor, rule_id=rule_id, month=body.month)


@router.post("/discount-rules/{rule_id}/grants", response_model=PrepayGrantRead, status_code=CREATED,
             responses=problems(rules.DiscountRuleNotFound, rules.RuleNotApproved, prepay.NotAPrepayRule,
                                prepay.UnitOutsideRule, prepay.NotADeposit, prepay.DepositOutsideRule,
                                prepay.FirstMonthNotAhead, prepay.UnitNotBilledForItem, prepay.NoPriceForMonth,
                                prepay.ArrearsFirst, prepay.PrepayDepositShort, prepay.AlreadyGranted, prepay.DepositUsed))
@idempotent(CREATED)
async def grant_prepay(rule_id: uuid.UUID, body: PrepayGrantCreate, actor: Ask, session: SessionDep) -> PrepayGrantRead:
    """Grant an approved prepay rule (预交N个月送M个月) to a unit whose owner has just paid N months ahead:
    `receipt_id` names the deposit (made in the rule's months, at least N × the unit's monthly charge of
    the item earmarked for it; 409 prepay-deposit-short otherwise) and `first_month` the first month it
    pays. The M months after the N are recorded as free and waived in full when billed; any billed
    already are waived now. One grant per rule and unit (409 already-granted), one per deposit."""
    return await prepay.grant(session, actor=actor, rule_id=rule_id, data=body)


@router.get("/discount-rules/{rule_id}/grants", response_model=list[PrepayGrantRead],
            responses=problems(rules.DiscountRuleNotFound))
async def list_grants(rule_id: uuid.UUID, actor: Read, session: SessionDep) -> list[PrepayGrantRead]:
    """The units a prepay rule was granted to, with their prepaid and free months, oldest first."""
    return await prepay.list_grants(session, actor=actor, rule_id=rule_id)
