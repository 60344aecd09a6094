"""Correcting a wrong charge (issue 17): cancel it with its reason, bill the right one beside it.

A charge is never edited or deleted. Cancelling goes through the charge's transition table
(open -> cancelled, `audit.apply`); a cancelled charge owes nothing (`Charge.outstanding`,
`Charge.is_open()`) and leaves the arrears, the owed totals and the payments' open charges.

Money paid on a charge (on it or on a late fee posted on it) is not cancelled at once: the
cancel asks for it instead (corrections/cancellations.py, 202), and another person approves.
The approval reverses each live allocation, puts the money into the unit's prepaid account
(entries of kind `correction` naming the payment and the charge) and cancels the charge, in
one transaction; the receipts stay valid, the money was received and is still the unit's,
and the next deduction settles the replacement from it.

Late fees posted on a cancelled charge (fees/late_fees/) were reckoned on a wrong amount: they
are cancelled with it, under the same reason; money paid on them asks for approval alike, and
moves to the account with the charge's.
The replacement accrues its own late fees, from its own due date.

The replacement (`rebill`) is a new charge with `replaces_id`, of the same unit, item, month
and source; the unique index on (unit, item, month) ignores cancelled charges, so it can
stand beside the one it corrects, and a second replacement of one charge is refused.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Conflict
from app.domain.fees.billing import rules as billing
from app.domain.fees.billing.charges import CHARGE, with_late_fee
from app.domain.fees.billing.items import price_in_force, prices_of
from app.domain.fees.corrections import cancellations
from app.domain.fees.corrections.family import cancel_family, locked_with_late_fees
from app.domain.fees.corrections.schemas import ChargeCancel, ChargeCancellationRead, ChargeRebill
from app.domain.fees.late_fees import service as late_fee_service
from app.domain.fees.model import Charge, ChargeSource, ChargeState, FeeItem, FeeKind, UnitFeeItem, VacantRule
from app.domain.fees.prorate import days as prorate
from app.domain.fees.prorate import service as billing_periods
from app.domain.registry.model import Estate, Unit
from app.domain.visibility import load_visible


class ChargeNotCancelled(Conflict):
    title = "Only a cancelled charge is rebilled; cancel it first, with its reason"
    title_zh = "只有已取消的费用才能重新出账；请先取消并注明原因"


class ChargeAlreadyReplaced(Conflict):
    title = "This cancelled charge has a replacement already"
    title_zh = "这笔已取消的费用已有替代费用"


class NothingToRebill(Conflict):
    title = "Recomputed, the month owes nothing for this unit and item; send the amount to bill"
    title_zh = "重新计算后该房号该项目本月无应收金额；请直接填写要出账的金额"


async def _view(session: AsyncSession, charge: Charge, *, now: datetime | None) -> dict[str, Any]:
    estate = await session.get_one(Estate, charge.estate_id)
    due = (await late_fee_service.accruing(session, estate_id=estate.id, charges=[charge],
                                           as_of=estate_time.today(estate, now=now)))[charge.id]
    return with_late_fee(charge, posted=due.posted.amount, days=due.posted.days, accruing=due.to_post)


async def cancel(session: AsyncSession, *, actor: Actor, charge_id: uuid.UUID, data: ChargeCancel,
                 now: datetime | None = None) -> dict[str, Any] | ChargeCancellationRead:
    """Cancel an unpaid charge at once, with the late fees posted on it; for a paid one (money on it
    or on its late fees), ask for the cancellation: the request is returned, nothing else moves."""
    charge = await load_visible(session, CHARGE, charge_id, actor=actor)
    at = now or utcnow()
    family = await locked_with_late_fees(session, charge)
    if ChargeState(charge.state) is ChargeState.open and any(c.amount_paid > 0 for c in family):
        return await cancellations.ask(session, actor=actor, charge=charge, family=family, reason=data.reason, at=at)
    await cancel_family(session, actor=actor, charge=charge, family=family, reason=data.reason, at=at)
    return await _view(session, charge, now=now)


async def _replacement_of(session: AsyncSession, charge: Charge) -> Charge | None:
    return (await session.execute(select(Charge).where(Charge.replaces_id == charge.id))).scalars().first()


async def _recompute(session: AsyncSession, charge: Charge) -> billing.Line | None:
    """The month's charge as the run would bill it now, for a billing-run charge; None otherwise."""
    item = await session.get_one(FeeItem, charge.fee_item_id)
    if ChargeSource(charge.source) is not ChargeSource.billing or charge.period is None:
        return None
    unit = await session.get_one(Unit, charge.unit_id)
    price = price_in_force((await prices_of(session, [item.id]))[item.id], estate_time.month_first(charge.period))
    sub = (await session.execute(select(UnitFeeItem).where(
        UnitFeeItem.unit_id == unit.id, UnitFeeItem.fee_item_id == item.id))).scalar_one_or_none()
    if price is None or (not item.applies_to_all and sub is None):
        return None
    periods = await billing_periods.periods_of(session, unit.estate_id)
    spans = [periods.get(unit.id, (None, None))] + ([prorate.subscription_span(sub)] if sub else [])
    days = prorate.month_days(charge.period, *spans)
    if days[0] == 0:
        return None
    return billing.compute(kind=FeeKind(item.kind), price=price, area=unit.area,
                           quantity=None if item.applies_to_all or sub is None else sub.quantity,
                           vacant=unit.is_vacant, vacant_rule=VacantRule(item.vacant_rule),
                           vacant_discount=item.vacant_discount, days=days[0], days_in_month=days[1])


async def _line(session: AsyncSession, *, actor: Actor, charge: Charge, data: ChargeRebill) -> billing.Line:
    if data.amount is not None:
        return billing.Line(amount=data.amount, basis={"amount": str(data.amount), "entered_by": actor.label[:100]})
    line = await _recompute(session, charge)
    if line is None:
        raise NothingToRebill(field="amount")
    return line


async def rebill(session: AsyncSession, *, actor: Actor, charge_id: uuid.UUID, data: ChargeRebill,
                 now: datetime | None = None) -> dict[str, Any]:
    """Bill the right amount as a new charge replacing the cancelled one (any source)."""
    old = await load_visible(session, CHARGE, charge_id, actor=actor, lock=True)
    if ChargeState(old.state) is not ChargeState.cancelled:
        raise ChargeNotCancelled(charge_id=str(old.id))
    if await _replacement_of(session, old) is not None:
        raise ChargeAlreadyReplaced(charge_id=str(old.id))
    line = await _line(session, actor=actor, charge=old, data=data)
    estate = await session.get_one(Estate, old.estate_id)
    # Not due before it is billed: late fees run from the day the right amount is asked for.
    due = max(old.due_date, estate_time.today(estate, now=now))
    new = Charge(estate_id=old.estate_id, unit_id=old.unit_id, fee_item_id=old.fee_item_id, period=old.period,
                 description=data.description or old.description, amount=line.amount, due_date=due,
                 basis={**line.basis, "replaces": str(old.id)}, source=ChargeSource(old.source), replaces_id=old.id,
                 late_fee_of=old.late_fee_of)  # a late fee corrected is still the late fee of its charge
    session.add(new)
    await flush_unique(session, ChargeAlreadyReplaced("the month has an open charge for this unit and item already",
                                                      charge_id=str(old.id)))
    await audit.record(session, actor=actor, action="charge.rebill", row=new, after={**snapshot(new), "replaces": str(old.id)})
    return await _view(session, new, now=now)
