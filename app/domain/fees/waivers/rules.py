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

A prepay rule (预交N个月送M个月, kind prepay_months) covers no unit by itself: the desk grants it
to a unit whose owner paid N months ahead (waivers/prepay.py), and applying it to a month
waives in full the charges of the units granted that month as a free one, whatever the rule's
own months (they bound when the deposit may be made, not when the free months fall).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Exists, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound
from app.domain.fees.billing.items import get_item, load_estate
from app.domain.fees.model import Charge, FeeKind
from app.domain.fees.waivers.model import (
    HUNDRED,
    DiscountRule,
    PrepayGrant,
    RuleKind,
    Waiver,
    WaiverKind,
    WaiverState,
    waiver_amount,
)
from app.domain.fees.waivers.schemas import Decision, DiscountRuleCreate, DiscountRuleRead, RuleApplied
from app.domain.fees.waivers.service import check_value
from app.domain.registry.errors import BuildingNotInEstate
from app.domain.registry.model import Building, Unit

ZERO = Decimal("0.00")


class DiscountRuleNotFound(NotFound):
    title = "Discount rule not found"
    title_zh = "未找到该优惠规则"


class RuleNotApproved(Conflict):
    title = "Only an approved discount rule is applied"
    title_zh = "只有已批准的优惠规则才能使用"


class MonthOutsideRule(Invalid):
    title = "The month is outside the rule's months"
    title_zh = "该月份不在规则的适用月份内"


class MonthsOutOfOrder(Invalid):
    title = "to_month is before from_month"
    title_zh = "to_month 早于 from_month"


class OneUnitSet(Invalid):
    title = "Give unit_ids or building_id, not both"
    title_zh = "unit_ids 与 building_id 只能填一个"


class UnitsNotInEstate(Invalid):
    title = "unit_ids names a unit that is not in this estate"
    title_zh = "unit_ids 中有不属于本小区的房号"


class ValueRequired(Invalid):
    title = "An amount, percentage or vacant-unit rule needs a value"
    title_zh = "金额、百分比或空置房规则须填写数值"


class PrepayTermsRequired(Invalid):
    title = "A prepay_months rule needs prepay_months and free_months, and no value"
    title_zh = "“预交送月”规则须填写 prepay_months 和 free_months，且不填数值"


class PrepayTermsOnlyForPrepay(Invalid):
    title = "prepay_months and free_months belong to a prepay_months rule only"
    title_zh = "prepay_months 和 free_months 只用于“预交送月”规则"


class FreeMonthsAbovePrepaid(Invalid):
    title = "free_months is more than prepay_months"
    title_zh = "free_months 大于 prepay_months"


class ItemNotMonthly(Invalid):
    title = "A prepay rule is on a fee item billed monthly (per area or fixed)"
    title_zh = "预交优惠规则只适用于按月收费（按面积或固定金额）的收费项目"


class FinanceApprovesRule(Forbidden):
    title = "A percentage or vacant-unit rule, or an amount above the threshold, is approved by finance"
    title_zh = "百分比或空置房规则，以及超过限额的金额规则，须由财务审批"


def read(rule: DiscountRule) -> DiscountRuleRead:
    return DiscountRuleRead.model_validate(rule)


async def load_rule(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID, lock: bool = False) -> DiscountRule:
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


def _check_terms(data: DiscountRuleCreate) -> None:
    """A prepay rule has its two terms and no value (it waives in full); every other rule the reverse."""
    if data.kind is not RuleKind.prepay_months:
        if data.value is None:
            raise ValueRequired(field="value")
        check_value(data.kind, data.value)
        if data.prepay_months is not None or data.free_months is not None:
            raise PrepayTermsOnlyForPrepay(field="prepay_months" if data.prepay_months is not None else "free_months")
        return
    for name in ("prepay_months", "free_months"):
        if getattr(data, name) is None:
            raise PrepayTermsRequired(field=name)
    if data.value is not None:
        raise PrepayTermsRequired(field="value")
    assert data.prepay_months is not None and data.free_months is not None
    if data.free_months > data.prepay_months:
        raise FreeMonthsAbovePrepaid(field="free_months", prepay_months=data.prepay_months)


async def create_rule(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: DiscountRuleCreate,
                      now: datetime | None = None) -> DiscountRuleRead:
    await load_estate(session, actor=actor, estate_id=estate_id)
    item = await get_item(session, actor=actor, item_id=data.fee_item_id, estate_id=estate_id)
    _check_terms(data)
    if data.kind is RuleKind.prepay_months and FeeKind(item.kind) not in (FeeKind.per_area, FeeKind.fixed):
        raise ItemNotMonthly(field="fee_item_id", kind=item.kind)
    await _check_units(session, estate_id=estate_id, data=data)
    rule = DiscountRule(estate_id=estate_id, fee_item_id=data.fee_item_id, kind=data.kind, value=data.value or HUNDRED,
                        prepay_months=data.prepay_months, free_months=data.free_months,
                        unit_ids=[str(u) for u in data.unit_ids] if data.unit_ids else None, building_id=data.building_id,
                        from_month=data.from_month, to_month=data.to_month, reason=data.reason, requested_by=actor.id,
                        created_at=now or utcnow())
    session.add(rule)
    await session.flush()
    await audit.record(session, actor=actor, action="discount_rule.request", row=rule)
    return read(rule)


async def decide(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID, action: str, data: Decision,
                 finance_above: Decimal, now: datetime | None = None) -> DiscountRuleRead:
    rule = await load_rule(session, actor=actor, rule_id=rule_id, lock=True)
    unbounded = RuleKind(rule.kind) is not RuleKind.amount
    if action == "approve" and (unbounded or rule.value > finance_above) and not actor.has_role(Role.finance):
        raise FinanceApprovesRule(kind=rule.kind, finance_above=str(finance_above))
    await audit.apply(session, actor=actor, row=rule, action=action, by=actor.id, at=now or utcnow(), reason=data.reason)
    return read(rule)


async def get_rule(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID) -> DiscountRuleRead:
    return read(await load_rule(session, actor=actor, rule_id=rule_id))


async def list_rules(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> list[DiscountRuleRead]:
    await load_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(DiscountRule).where(DiscountRule.estate_id == estate_id).order_by(DiscountRule.created_at, DiscountRule.id)
    return [read(r) for r in (await session.execute(stmt)).scalars()]


def granted(rule_id: object, month: str) -> Exists:
    """The rule has a grant whose free months hold the month (for a unit, when correlated on unit_id)."""
    return exists().where(PrepayGrant.rule_id == rule_id, col(PrepayGrant.free_months).contains([month]))


def _matching(rule: DiscountRule, month: str, unit_id: uuid.UUID | None) -> object:
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
    if RuleKind(rule.kind) is RuleKind.prepay_months:
        stmt = stmt.where(granted(rule.id, month).where(PrepayGrant.unit_id == Charge.unit_id))
    if unit_id is not None:
        stmt = stmt.where(Charge.unit_id == unit_id)
    # Charges locked in id order, as payments lock them: the two queue, never deadlock.
    return stmt.order_by(Charge.id).with_for_update(of=Charge).execution_options(populate_existing=True)


async def waive_month(session: AsyncSession, *, actor: Actor, rule: DiscountRule, month: str, now: datetime,
                      unit_id: uuid.UUID | None = None) -> RuleApplied:
    """The rule applied to the month's charges (of one unit when `unit_id` is given)."""
    made: list[Waiver] = []
    for charge in (await session.execute(_matching(rule, month, unit_id))).scalars():  # type: ignore[call-overload]
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
    rule = await load_rule(session, actor=actor, rule_id=rule_id, lock=True)
    if WaiverState(rule.status) is not WaiverState.approved:
        raise RuleNotApproved(current_state=rule.status)
    # A prepay rule's free months may fall after its own months: its grants say which it waives.
    if RuleKind(rule.kind) is not RuleKind.prepay_months and not rule.covers(month):
        raise MonthOutsideRule(field="month", from_month=rule.from_month, to_month=rule.to_month)
    return await waive_month(session, actor=actor, rule=rule, month=month, now=now or utcnow())


async def apply_for_month(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str,
                          now: datetime | None = None) -> list[RuleApplied]:
    """Every approved rule of the estate that covers the month, and every prepay rule granted with it as
    a free month, applied: what the billing run calls."""
    covering = and_(DiscountRule.kind != RuleKind.prepay_months, DiscountRule.from_month <= month,
                    func.coalesce(DiscountRule.to_month, month) >= month)
    prepaid = and_(DiscountRule.kind == RuleKind.prepay_months, granted(DiscountRule.id, month))
    stmt = (select(DiscountRule).where(
        DiscountRule.estate_id == estate_id, DiscountRule.status == WaiverState.approved, or_(covering, prepaid))
        .order_by(DiscountRule.created_at, DiscountRule.id).with_for_update())
    rules = list((await session.execute(stmt)).scalars())
    return [await waive_month(session, actor=actor, rule=rule, month=month, now=now or utcnow()) for rule in rules]
