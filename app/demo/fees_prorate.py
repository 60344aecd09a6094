"""Demo proration and a correction: in each estate one household moves out on the 10th of this
month; its whole-month management fee, billed on the 1st, is cancelled with the reason and billed
again for the days it lived there, through the services the desk uses (issue 17)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.calendar import estate_time
from app.domain.fees.corrections import service as corrections
from app.domain.fees.corrections.schemas import ChargeCancel, ChargeRebill
from app.domain.fees.model import Charge, ChargeSource, FeeItem
from app.domain.fees.prorate import service as billing_periods
from app.domain.fees.prorate.schemas import BillingPeriodPut
from app.domain.registry.model import Estate, Unit

if TYPE_CHECKING:
    from app.demo import DemoContext

MOVE_OUT_DAY = 10


async def _unpaid_fee(ctx: DemoContext, estate: Estate, month: str) -> Charge | None:
    """The first unpaid whole-month management fee of the month, in unit order: the same every load."""
    return (await ctx.session.execute(
        select(Charge).join(FeeItem, FeeItem.id == Charge.fee_item_id).join(Unit, Unit.id == Charge.unit_id)
        .where(Charge.estate_id == estate.id, FeeItem.code == "mgmt", Charge.period == month,
               Charge.source == ChargeSource.billing.value, Charge.amount_paid == 0, Unit.is_vacant.is_(False))
        .order_by(Unit.building_id, Unit.entrance, Unit.number).limit(1))).scalar_one_or_none()


async def move_out_and_correction(ctx: DemoContext) -> None:
    for estate in ctx.estates:
        finance = next(u for u in ctx.users if u.username == f"{estate.code.lower()}.finance")
        actor = Actor(id=finance.id, label=finance.full_name, company_id=estate.company_id,
                      roles=frozenset({Role.finance}), estate_ids=frozenset({estate.id}))
        today = estate_time.today(estate)
        month = estate_time.month_key(today)
        charge = await _unpaid_fee(ctx, estate, month)
        if charge is None:
            continue
        moved_out = estate_time.month_first(month).replace(day=MOVE_OUT_DAY)
        await billing_periods.put_period(ctx.session, actor=actor, unit_id=charge.unit_id,
                                         data=BillingPeriodPut(billed_to=moved_out))
        reason = f"业主{moved_out.month}月{moved_out.day}日搬离，本月物业费按天计收"
        await corrections.cancel(ctx.session, actor=actor, charge_id=charge.id, data=ChargeCancel(reason=reason))
        await corrections.rebill(ctx.session, actor=actor, charge_id=charge.id, data=ChargeRebill())
        ctx.counts["corrections"] = ctx.counts.get("corrections", 0) + 1
