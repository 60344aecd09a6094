"""Prepay N months, get M free (预交N个月送M个月): granting a prepay rule to a unit at the desk.

What the office means, and what this does exactly:
- The rule (kind prepay_months, terms N = prepay_months and M = free_months, M <= N) is over a
  fee item billed monthly and a set of units, asked for and approved like a percentage rule
  (no ceiling of its own: finance approves). Its from_month..to_month bound when the owner
  may pay: the deposit's month (estate time) must be one of them.
- The owner pays N months of the item ahead: a deposit into the unit's prepaid account with at
  least N × the unit's monthly charge of the item earmarked for that item. The monthly charge
  is computed as the billing run would for a whole month: the price in force on first_month's
  first day × the unit's area (per area) or 1 / the subscribed quantity (fixed), with the
  item's vacant discount if the unit is vacant now. 2.50 × 89.20 m² = 223.00; N = 10: 2230.00.
- The desk then grants the rule to the unit (POST /discount-rules/{id}/grants) naming the
  deposit's receipt and first_month, the first month the money pays (the deposit's month or
  up to AHEAD_MAX after). The grant is checked (the rule approved, the unit in its set, the
  receipt an issued deposit of that unit, the earmark enough, no charge of the item before
  first_month still owing, since the earmark would settle those first and the months would not
  be prepaid) and records the N prepaid and the M free months: first_month + N .. + N + M - 1.
  One grant per rule and unit (a second is refused), one per deposit.
- The prepaid months are settled by the deduction job from the earmarked money, as any deposit
  is; nothing here touches the account. Each free month, when billed, is waived in full by
  the rule (apply_for_month after the billing run: an approved waiver line with rule_id, as the
  other rules make). A free month billed already when the grant is made is waived at once.
- Voiding the deposit or reversing a free month's waiver later is the desk's ordinary
  correction; the grant stays on the record (audited as discount_rule.grant).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Conflict, Invalid
from app.domain.fees.billing import rules as billing
from app.domain.fees.billing.items import price_in_force, prices_of
from app.domain.fees.model import Charge, FeeItem, FeeKind, UnitFeeItem, VacantRule
from app.domain.fees.payments.model import Receipt, ReceiptSeries, ReceiptStatus
from app.domain.fees.prepaid.model import AccountEntry, EntryKind
from app.domain.fees.waivers import rules
from app.domain.fees.waivers.model import AHEAD_MAX, DiscountRule, PrepayGrant, RuleKind, WaiverState, months_apart, prepay_terms
from app.domain.fees.waivers.schemas import PrepayGrantCreate, PrepayGrantRead
from app.domain.registry.model import Estate, Unit

ZERO = Decimal("0.00")


class NotAPrepayRule(Conflict):
    title = "Only a prepay_months rule is granted to a unit"
    title_zh = "只有“预交送月”规则才能授予房号"


class UnitOutsideRule(Invalid):
    title = "unit_id names a unit the rule does not cover"
    title_zh = "unit_id 所指房号不在该规则范围内"


class NotADeposit(Invalid):
    title = "receipt_id is not an issued deposit receipt of this unit"
    title_zh = "receipt_id 不是该房号已开具的预存款收据"


class DepositOutsideRule(Invalid):
    title = "The deposit was not made in the rule's months"
    title_zh = "这笔预存款不是在规则适用的月份内存入的"


class FirstMonthNotAhead(Invalid):
    title = "first_month is before the deposit's month, or more than a year after it"
    title_zh = "first_month 早于预存款的月份，或比它晚一年以上"


class UnitNotBilledForItem(Invalid):
    title = "The unit is not billed monthly for the rule's fee item in first_month"
    title_zh = "该房号在 first_month 没有按月收取该规则的收费项目"


class NoPriceForMonth(Conflict):
    title = "The rule's fee item has no price in force in first_month"
    title_zh = "该规则的收费项目在 first_month 没有执行中的单价"


class ArrearsFirst(Conflict):
    title = "The unit still owes the item for a month before first_month: the earmark would settle that first"
    title_zh = "该房号在 first_month 之前仍欠该项目费用：预存款会先抵扣欠费"


class PrepayDepositShort(Conflict):
    title = "The deposit's earmark for the item is less than N months of the unit's charge"
    title_zh = "预存款中该项目的指定金额不足该房号 N 个月的费用"


class AlreadyGranted(Conflict):
    title = "The rule has been granted to this unit already"
    title_zh = "该规则已授予此房号"


class DepositUsed(Conflict):
    title = "This deposit has earned a prepay grant already"
    title_zh = "这笔预存款已享受过预交优惠"


def read(grant: PrepayGrant) -> PrepayGrantRead:
    return PrepayGrantRead.model_validate(grant)


def _covers_unit(rule: DiscountRule, unit: Unit) -> bool:
    if unit.estate_id != rule.estate_id or unit.is_public:
        return False
    if rule.unit_ids:
        return str(unit.id) in rule.unit_ids
    return rule.building_id is None or unit.building_id == rule.building_id


async def _deposit(session: AsyncSession, *, rule: DiscountRule, unit: Unit, receipt_id: uuid.UUID) -> Receipt:
    receipt = await session.get(Receipt, receipt_id)
    if (receipt is None or receipt.estate_id != rule.estate_id or receipt.unit_id != unit.id or receipt.payment_id is None
            or ReceiptSeries(receipt.series) is not ReceiptSeries.deposit or ReceiptStatus(receipt.status) is not ReceiptStatus.issued):
        raise NotADeposit(field="receipt_id")
    if (await session.execute(select(PrepayGrant.id).where(PrepayGrant.receipt_id == receipt.id))).first():
        raise DepositUsed(receipt_id=str(receipt.id))
    return receipt


async def _earmarked(session: AsyncSession, *, receipt: Receipt, fee_item_id: uuid.UUID) -> Decimal:
    """What the deposit put on the account for the item (its entries, not today's balance)."""
    stmt = select(func.coalesce(func.sum(AccountEntry.amount), ZERO)).where(
        AccountEntry.payment_id == receipt.payment_id, AccountEntry.kind == EntryKind.deposit,
        AccountEntry.earmark_fee_item_id == fee_item_id)
    return Decimal((await session.execute(stmt)).scalar_one())


async def monthly_amount(session: AsyncSession, *, item: FeeItem, unit: Unit, month: str) -> Decimal:
    """The unit's charge of the item for a whole month, as the billing run computes it."""
    quantity = None
    if not item.applies_to_all:
        sub = (await session.execute(select(UnitFeeItem).where(
            UnitFeeItem.unit_id == unit.id, UnitFeeItem.fee_item_id == item.id, UnitFeeItem.from_month <= month,
            func.coalesce(UnitFeeItem.to_month, month) >= month))).scalars().first()
        if sub is None:
            raise UnitNotBilledForItem(field="unit_id")
        quantity = sub.quantity
    price = price_in_force((await prices_of(session, [item.id]))[item.id], estate_time.month_first(month))
    if price is None:
        raise NoPriceForMonth(fee_item_id=str(item.id), month=month)
    line = billing.compute(kind=FeeKind(item.kind), price=price, area=unit.area, quantity=quantity, vacant=unit.is_vacant,
                           vacant_rule=VacantRule(item.vacant_rule), vacant_discount=item.vacant_discount)
    if line is None:
        raise UnitNotBilledForItem(field="unit_id")
    return line.amount


async def _check_no_arrears(session: AsyncSession, *, rule: DiscountRule, unit: Unit, first_month: str) -> None:
    stmt = select(Charge.period).where(Charge.unit_id == unit.id, Charge.fee_item_id == rule.fee_item_id,
                                       Charge.period < first_month, Charge.is_open()).order_by(Charge.period).limit(1)
    owed = (await session.execute(stmt)).scalar_one_or_none()
    if owed is not None:
        raise ArrearsFirst(period=owed)


async def _check_months(session: AsyncSession, *, rule: DiscountRule, receipt: Receipt, first_month: str) -> None:
    """Paid in the rule's months (estate time), for months from then to a year on."""
    estate = await session.get(Estate, rule.estate_id)
    assert estate is not None
    paid_in = estate_time.month_key(estate_time.local_time(receipt.issued_at, estate).date())
    if not rule.covers(paid_in):
        raise DepositOutsideRule(field="receipt_id", deposit_month=paid_in, from_month=rule.from_month, to_month=rule.to_month)
    if not 0 <= months_apart(paid_in, first_month) <= AHEAD_MAX:
        raise FirstMonthNotAhead(field="first_month", deposit_month=paid_in)


async def _checked_rule(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID) -> DiscountRule:
    rule = await rules.load_rule(session, actor=actor, rule_id=rule_id, lock=True)
    if RuleKind(rule.kind) is not RuleKind.prepay_months:
        raise NotAPrepayRule(kind=rule.kind)
    if WaiverState(rule.status) is not WaiverState.approved:
        raise rules.RuleNotApproved(current_state=rule.status)
    return rule


async def grant(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID, data: PrepayGrantCreate,
                now: datetime | None = None) -> PrepayGrantRead:
    """Grant a prepay rule to a unit against its deposit; free months billed already are waived now.

    The rule's row is locked first, so two grants of one rule queue and the second sees the first."""
    now = now or utcnow()
    rule = await _checked_rule(session, actor=actor, rule_id=rule_id)
    unit = await session.get(Unit, data.unit_id)
    if unit is None or not _covers_unit(rule, unit):
        raise UnitOutsideRule(field="unit_id")
    if (await session.execute(select(PrepayGrant.id).where(PrepayGrant.rule_id == rule.id,
                                                            PrepayGrant.unit_id == unit.id))).first():
        raise AlreadyGranted(unit_id=str(unit.id))
    receipt = await _deposit(session, rule=rule, unit=unit, receipt_id=data.receipt_id)
    await _check_months(session, rule=rule, receipt=receipt, first_month=data.first_month)
    item = await session.get(FeeItem, rule.fee_item_id)
    assert item is not None and rule.prepay_months is not None and rule.free_months is not None
    terms = prepay_terms(first_month=data.first_month, prepay_months=rule.prepay_months, free_months=rule.free_months,
                         monthly=await monthly_amount(session, item=item, unit=unit, month=data.first_month))
    await _check_no_arrears(session, rule=rule, unit=unit, first_month=data.first_month)
    earmarked = await _earmarked(session, receipt=receipt, fee_item_id=rule.fee_item_id)
    if earmarked < terms.required:
        raise PrepayDepositShort(required=str(terms.required), earmarked=str(earmarked), monthly=str(terms.monthly))
    row = PrepayGrant(estate_id=rule.estate_id, rule_id=rule.id, unit_id=unit.id, receipt_id=receipt.id,
                      first_month=data.first_month, prepaid_months=terms.prepaid, free_months=terms.free,
                      monthly_amount=terms.monthly, required_amount=terms.required, earmarked_amount=earmarked,
                      granted_by=actor.id, created_at=now)
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="discount_rule.grant", row=row)
    waived = [await rules.waive_month(session, actor=actor, rule=rule, month=m, now=now, unit_id=unit.id) for m in terms.free]
    return read(row).model_copy(update={"waived_now": [w for w in waived if w.waivers_created]})


async def list_grants(session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID) -> list[PrepayGrantRead]:
    rule = await rules.load_rule(session, actor=actor, rule_id=rule_id)
    stmt = select(PrepayGrant).where(PrepayGrant.rule_id == rule.id).order_by(PrepayGrant.created_at, PrepayGrant.id)
    return [read(g) for g in (await session.execute(stmt)).scalars()]
