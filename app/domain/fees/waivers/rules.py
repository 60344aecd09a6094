"""Discount rules over a set of units (优惠规则), and applying them to a month's charges.

A rule is asked for by fees:configure and approved once, like a waiver; its approval stands
for every waiver line it makes. Applying it to a month (after the billing run, which calls
`apply_for_month`, or by hand: POST /discount-rules/{id}/apply) makes one approved waiver per
matching charge still owing, never two for the same (rule, charge): the rule's row is locked
while it is applied, and a partial unique index is the last word.

A percentage or vacant-unit rule has no ceiling of its own (it spans every matching charge),
so finance approves it; an amount rule is approved like a single waiver of that amount.
"Vacant" is the unit's flag when the rule is applied. An item with its own vacant discount
(FeeItem.vacant_rule) was discounted at billing already: a vacant rule on it comes on top, a
percent of the billed (discounted) amount.

Not built yet: "prepay N months, get M off" (see the branch's report).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound
from app.domain.fees.billing.items import get_item, load_estate
from app.domain.fees.model import Charge
from app.domain.fees.waivers.model import DiscountRule, RuleKind, Waiver, WaiverKind, WaiverState, waiver_amount
from app.domain.fees.waivers.schemas import Decision, DiscountRuleCreate, DiscountRuleRead, RuleApplied
from app.domain.fees.waivers.service import check_value
from app.domain.registry.errors import BuildingNotInEstate
from app.domain.registry.model import Building, Unit

ZERO = Decimal("0.00")


class DiscountRuleNotFound(NotFound):
    title = "Discount rule not found"


class RuleNotApproved(Conflict):
    title = "Only an approved discount rule is applied"


class MonthOutsideRule(Invalid):
    title = "The month is outside the rule's months"


class MonthsOutOfOrder(Invalid):
    title = "to_month is before from_month"


class OneUnitSet(Invalid):
    title = "Give unit_ids or building_id, not both"


class UnitsNotInEstate(Invalid):
    title = "unit_ids names a unit that is not in this estate"


class FinanceApprovesRule(Forbidden):
    title = "A percentage or vacant-unit rule, or an amount above the threshold, is approved by finance"


def read(rule: DiscountRule) -> DiscountRuleRead:
    return DiscountRuleRead.model_validate(rule)


async def _load(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID, lock: bool = False) -> DiscountRule:
    stmt = select(DiscountRule).where(DiscountRule.id == rule_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    rule = (await session.execute(stmt)).scalar_one_or_none()
    if rule is None or not actor.sees(rule.estate_id):
        raise DiscountRuleNotFound(rule_id=str(rule_id))
    return rule


async def _check_units(session: AsyncSession, *, estate_id: uuid.UUID, data: DiscountRuleCreate) -> None:
    if data.unit_ids is not None and data.building_id is not None:
        raise OneUnitSet(field="building_id")
    if data.to_month is not None and data.to_month < data.from_month:
        raise MonthsOutOfOrder(field="to_month")
    if data.building_id is not None:
        building = await session.get(Building, data.building_id)
        if building is None or building.estate_id != estate_id:
            raise BuildingNotInEstate(field="building_id")
    if data.unit_ids:
        wanted = set(data.unit_ids)
        found = set((await session.execute(
            select(Unit.id).where(Unit.estate_id == estate_id, Unit.id.in_(wanted)))).scalars())
        if found != wanted:
            raise UnitsNotInEstate(field="unit_ids", unit_id=str(sorted(wanted - found, key=str)[0]))


async def create_rule(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: DiscountRuleCreate,
                      now: datetime | None = None) -> DiscountRuleRead:
    await load_estate(session, actor=actor, estate_id=estate_id)
    await get_item(session, actor=actor, item_id=data.fee_item_id, estate_id=estate_id)
    check_value(data.kind, data.value)
    await _check_units(session, estate_id=estate_id, data=data)
    rule = DiscountRule(estate_id=estate_id, fee_item_id=data.fee_item_id, kind=data.kind, value=data.value,
                        unit_ids=[str(u) for u in data.unit_ids] if data.unit_ids else None, building_id=data.building_id,
                        from_month=data.from_month, to_month=data.to_month, reason=data.reason, requested_by=actor.id,
                        created_at=now or utcnow())
    session.add(rule)
    await session.flush()
    await audit.record(session, actor=actor, action="discount_rule.request", row=rule)
    return read(rule)


async def decide(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID, action: str, data: Decision,
                 finance_above: Decimal, now: datetime | None = None) -> DiscountRuleRead:
    rule = await _load(session, actor=actor, rule_id=rule_id, lock=True)
    unbounded = RuleKind(rule.kind) is not RuleKind.amount
    if action == "approve" and (unbounded or rule.value > finance_above) and not actor.has_role(Role.finance):
        raise FinanceApprovesRule(kind=rule.kind, finance_above=str(finance_above))
    await audit.apply(session, actor=actor, row=rule, action=action, by=actor.id, at=now or utcnow(), reason=data.reason)
    return read(rule)


async def get_rule(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID) -> DiscountRuleRead:
    return read(await _load(session, actor=actor, rule_id=rule_id))


async def list_rules(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> list[DiscountRuleRead]:
    await load_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(DiscountRule).where(DiscountRule.estate_id == estate_id).order_by(DiscountRule.created_at, DiscountRule.id)
    return [read(r) for r in (await session.execute(stmt)).scalars()]


def _matching(rule: DiscountRule, month: str) -> object:
    """The month's charges of the rule's item and units that still owe and the rule has not waived yet."""
    waived = exists().where(Waiver.rule_id == rule.id, Waiver.charge_id == Charge.id)
    stmt = (select(Charge).join(Unit, and_(Unit.id == Charge.unit_id, Unit.estate_id == rule.estate_id))
            .where(Charge.estate_id == rule.estate_id, Charge.fee_item_id == rule.fee_item_id, Charge.period == month,
                   Charge.is_open(), ~waived))
    if rule.unit_ids:
        stmt = stmt.where(Charge.unit_id.in_([uuid.UUID(u) for u in rule.unit_ids]))
    if rule.building_id is not None:
        stmt = stmt.where(Unit.building_id == rule.building_id)
    if RuleKind(rule.kind) is RuleKind.vacant_unit:
        stmt = stmt.where(Unit.is_vacant)
    # Charges locked in id order, as payments lock them: the two queue, never deadlock.
    return stmt.order_by(Charge.id).with_for_update(of=Charge).execution_options(populate_existing=True)


async def _apply(session: AsyncSession, *, actor: Actor, rule: DiscountRule, month: str, now: datetime) -> RuleApplied:
    made: list[Waiver] = []
    for charge in (await session.execute(_matching(rule, month))).scalars():  # type: ignore[call-overload]
        # A charge partly paid already gets what is left of the discount, never more than it owes.
        amount = min(waiver_amount(kind=RuleKind(rule.kind), value=rule.value, billed=charge.amount), charge.outstanding)
        if amount <= 0:
            continue
        charge.waive(amount=amount)
        made.append(Waiver(
            estate_id=rule.estate_id, charge_id=charge.id, unit_id=charge.unit_id, rule_id=rule.id, amount=amount,
            kind=WaiverKind.amount if RuleKind(rule.kind) is RuleKind.amount else WaiverKind.percentage, value=rule.value,
            reason=rule.reason, status=WaiverState.approved, requested_by=actor.id, decided_by=rule.decided_by,
            decided_at=now, decision_reason="按已批准的优惠规则", created_at=now))
    session.add_all(made)
    await session.flush()
    total = sum((w.amount for w in made), ZERO)
    await audit.record(session, actor=actor, action="discount_rule.apply", row=rule,
                       after={"month": month, "waivers_created": len(made), "total_waived": total,
                              "charge_ids": [w.charge_id for w in made]})
    return RuleApplied(rule_id=rule.id, month=month, waivers_created=len(made), total_waived=total)


async def apply_rule(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID, month: str,
                     now: datetime | None = None) -> RuleApplied:
    rule = await _load(session, actor=actor, rule_id=rule_id, lock=True)
    if WaiverState(rule.status) is not WaiverState.approved:
        raise RuleNotApproved(current_state=rule.status)
    if not rule.covers(month):
        raise MonthOutsideRule(field="month", from_month=rule.from_month, to_month=rule.to_month)
    return await _apply(session, actor=actor, rule=rule, month=month, now=now or utcnow())


async def apply_for_month(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str,
                          now: datetime | None = None) -> list[RuleApplied]:
    """Every approved rule of the estate that covers the month, applied: what the billing run calls."""
    stmt = (select(DiscountRule).where(
        DiscountRule.estate_id == estate_id, DiscountRule.status == WaiverState.approved, DiscountRule.from_month <= month,
        func.coalesce(DiscountRule.to_month, month) >= month)
        .order_by(DiscountRule.created_at, DiscountRule.id).with_for_update())
    rules = list((await session.execute(stmt)).scalars())
    return [await _apply(session, actor=actor, rule=rule, month=month, now=now or utcnow()) for rule in rules]
