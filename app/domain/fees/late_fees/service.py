"""Late-fee rules, and posting accrued late fees as charges (滞纳金) of their own.

Posting reads what was posted before on a charge after the charge's row is locked (by the
caller, in id order like every charge lock), so two postings at once -- a payment and the
month-end job, two payments -- queue and the second posts only what the first did not.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import AlreadyExists, Conflict, Invalid
from app.domain.fees.late_fees import accrual
from app.domain.fees.late_fees.accrual import Accrued
from app.domain.fees.late_fees.model import LateFeeRule
from app.domain.fees.late_fees.schemas import LateFeePosting, LateFeeRuleCreate, PostedLateFee
from app.domain.fees.model import Charge, ChargeSource, ChargeState, FeeItem
from app.domain.registry import service as registry_service
from app.domain.registry import units
from app.domain.registry.model import Estate

ZERO = Decimal("0.00")


class LateFeeRuleDateTaken(AlreadyExists):
    title = "The estate already has a late-fee rule from this date"
    title_zh = "本小区已有从这一天起执行的滞纳金规则"


class FeeItemNotInEstate(Invalid):
    title = "fee_item_ids names an item that is not the estate's"
    title_zh = "fee_item_ids 中有不属于本小区的收费项目"


class RuleWouldRewriteDueCharges(Conflict):
    title = "Charges already fell due under the rule in force then; a new rule may only apply from a day none fell due"
    title_zh = "已有费用按当时的规则到期；新规则只能从没有费用到期的日子起执行"


# --- rules -----------------------------------------------------------------------------

async def rules_of(session: AsyncSession, *, estate_id: uuid.UUID) -> list[LateFeeRule]:
    stmt = select(LateFeeRule).where(LateFeeRule.estate_id == estate_id).order_by(LateFeeRule.effective_from)
    return list((await session.execute(stmt)).scalars())


async def list_rules(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> list[LateFeeRule]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    return await rules_of(session, estate_id=estate_id)


async def _check_new_rule(session: AsyncSession, *, estate: Estate, data: LateFeeRuleCreate, today: date) -> None:
    items = select(FeeItem.id).where(FeeItem.estate_id == estate.id, FeeItem.id.in_(data.fee_item_ids))
    if len(set((await session.execute(items)).scalars())) != len(set(data.fee_item_ids)):
        raise FeeItemNotInEstate(field="fee_item_ids")
    taken = select(LateFeeRule.id).where(LateFeeRule.estate_id == estate.id, LateFeeRule.effective_from == data.effective_from)
    if (await session.execute(taken)).first() is not None:
        raise LateFeeRuleDateTaken(field="effective_from")
    # Like a price: a charge that fell due keeps the rule of its due date, so a rule may not
    # reach back over charges that are already due.
    due = select(Charge.id).where(Charge.estate_id == estate.id, Charge.due_date >= data.effective_from,
                                  Charge.due_date <= today, Charge.source != ChargeSource.late_fee.value).limit(1)
    if (await session.execute(due)).first() is not None:
        raise RuleWouldRewriteDueCharges(field="effective_from", effective_from=data.effective_from.isoformat())


async def create_rule(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: LateFeeRuleCreate,
                      now: datetime | None = None) -> LateFeeRule:
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    await _check_new_rule(session, estate=estate, data=data, today=estate_time.today(estate, now=now))
    rule = LateFeeRule(estate_id=estate.id, **data.model_dump(exclude={"fee_item_ids"}),
                       fee_item_ids=list(dict.fromkeys(data.fee_item_ids)))
    session.add(rule)
    await flush_unique(session, LateFeeRuleDateTaken(field="effective_from"))
    await audit.record(session, actor=actor, action="late_fee_rule.create", row=rule)
    return rule


# --- what was posted, what accrues -----------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Posted:
    amount: Decimal = ZERO
    days: int = 0  # the days the latest posting reached


async def posted_on(session: AsyncSession, charge_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Posted]:
    """Per charge: the late fees posted on it (waived or not; cancelled ones were never owed)."""
    if not charge_ids:
        return {}
    stmt = (select(Charge.late_fee_of, func.sum(Charge.amount), func.max((Charge.basis["days"]).as_integer()))
            .where(Charge.late_fee_of.in_(charge_ids), Charge.source == ChargeSource.late_fee.value,
                   Charge.state == ChargeState.open.value)
            .group_by(Charge.late_fee_of))
    return {of: Posted(amount=amount, days=days or 0) for of, amount, days in (await session.execute(stmt)).all()}


@dataclass(frozen=True, kw_only=True)
class Accruing:
    accrued: Accrued
    posted: Posted

    @property
    def to_post(self) -> Decimal:
        return accrual.to_post(self.accrued.amount, self.posted.amount)


async def accruing(session: AsyncSession, *, estate_id: uuid.UUID, charges: Sequence[Charge], as_of: date,
                   rules: list[LateFeeRule] | None = None) -> dict[uuid.UUID, Accruing]:
    """Per charge: accrued as of `as_of`, posted so far, and so what a payment that day would post."""
    rules = await rules_of(session, estate_id=estate_id) if rules is None else rules
    posted = await posted_on(session, [c.id for c in charges])
    return {c.id: Accruing(accrued=accrual.accrued(c, accrual.rule_in_force(rules, c.due_date), as_of),
                           posted=posted.get(c.id, Posted())) for c in charges}


# --- posting ---------------------------------------------------------------------------

def _late_fee_charge(charge: Charge, due: Accruing, *, day: date) -> Charge:
    return Charge(estate_id=charge.estate_id, unit_id=charge.unit_id, fee_item_id=charge.fee_item_id, period=None,
                  description=f"{charge.description}滞纳金"[:200], amount=due.to_post, due_date=day,
                  basis=accrual.basis(due.accrued, posted=due.posted.amount), source=ChargeSource.late_fee,
                  late_fee_of=charge.id)


async def post(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, charges: Sequence[Charge],
               as_of: date) -> dict[uuid.UUID, Charge]:
    """Post what each charge accrued beyond what was posted on it; the charges are locked by the caller.

    Returns the new late-fee charges by the charge they are on."""
    due = await accruing(session, estate_id=estate_id, charges=charges, as_of=as_of)
    new = {c.id: _late_fee_charge(c, due[c.id], day=as_of) for c in charges if due[c.id].to_post > 0}
    if not new:
        return new
    session.add_all(new.values())
    await session.flush()
    for fee in new.values():
        await audit.record(session, actor=actor, action="charge.post_late_fee", row=fee)
    return new


def oldest_first(rows: list[Charge]) -> list[Charge]:
    """Oldest due first; a late fee right after the charge it is on, when that is owed too."""
    by_id = {c.id: c for c in rows}

    def key(c: Charge) -> tuple[object, ...]:
        parent = by_id.get(c.late_fee_of) if c.late_fee_of is not None else None
        own = (c.due_date, c.period or "", c.created_at, c.id)
        return (parent.due_date, parent.period or "", parent.created_at, parent.id, 1, *own) if parent else (*own, 0)
    return sorted(rows, key=key)


async def post_in_place(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, charges: list[Charge],
                        today: date) -> tuple[list[Charge], set[uuid.UUID]]:
    """Post the late fee each overdue charge accrued up to today, placed right after its charge,
    so one settlement -- a desk payment or a prepaid deduction -- settles both. Returns the
    charges in that order and the ids of the late fees just posted."""
    overdue = [c for c in charges if c.due_date < today]
    new = await post(session, actor=actor, estate_id=estate_id, charges=overdue, as_of=today)
    ordered: list[Charge] = []
    for charge in charges:
        ordered.append(charge)
        if charge.id in new:
            ordered.append(new[charge.id])
    return ordered, {fee.id for fee in new.values()}


def _overdue(*where: Any) -> Any:
    """Open charges that could accrue, locked in id order like every charge lock."""
    stmt = (select(Charge).where(Charge.is_open(), Charge.source != ChargeSource.late_fee.value, *where)
            .order_by(Charge.id).with_for_update())
    return stmt.execution_options(populate_existing=True)


def _read(fee: Charge) -> PostedLateFee:
    assert fee.late_fee_of is not None
    return PostedLateFee(charge_id=fee.id, late_fee_of=fee.late_fee_of, description=fee.description, amount=fee.amount,
                         due_date=fee.due_date, explanation=str(fee.basis.get("explanation", "")))


async def post_for_unit(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID,
                        now: datetime | None = None) -> LateFeePosting:
    """Post the unit's accrued late fees now, so they can be waived before the owner pays."""
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    estate = await session.get_one(Estate, unit.estate_id)
    today = estate_time.today(estate, now=now or utcnow())
    charges = list((await session.execute(_overdue(Charge.unit_id == unit.id, Charge.due_date < today))).scalars())
    new = await post(session, actor=actor, estate_id=estate.id, charges=charges, as_of=today)
    in_due_order = sorted(charges, key=lambda c: (c.due_date, c.period or "", c.created_at, c.id))
    posted = [_read(new[c.id]) for c in in_due_order if c.id in new]
    return LateFeePosting(unit_id=unit.id, as_of=today, posted=posted, total=sum((p.amount for p in posted), ZERO))


async def post_month_end(session: AsyncSession, *, actor: Actor, estate: Estate, month: str) -> dict[str, Any]:
    """On the month's last day: post what every unpaid overdue charge accrued by then. Run
    twice, the second run finds nothing more accrued that day and posts nothing."""
    last = estate_time.month_days(month)[1]
    rules = await rules_of(session, estate_id=estate.id)
    covered = {i for r in rules for i in r.fee_item_ids}
    if not covered:
        return {"month": month, "as_of": last, "posted": 0, "total": ZERO}
    stmt = _overdue(Charge.estate_id == estate.id, Charge.due_date < last, Charge.fee_item_id.in_(covered))
    charges = list((await session.execute(stmt)).scalars())
    new = await post(session, actor=actor, estate_id=estate.id, charges=charges, as_of=last)
    return {"month": month, "as_of": last, "posted": len(new), "total": sum((f.amount for f in new.values()), ZERO)}
