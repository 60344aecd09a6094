"""Waivers (减免) for the demo: a vacant-unit rule applied to this month's management fee, and two
waivers the desk asked for and the supervisor approved.

Made through the waiver services themselves (on the charges the fee history just wrote), so the
rows, the charges' waived amounts and the audit trail are what the desk would have left.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.fees.model import Charge, FeeItem
from app.domain.fees.waivers import rules
from app.domain.fees.waivers import service as waivers
from app.domain.fees.waivers.model import RuleKind, WaiverKind
from app.domain.fees.waivers.schemas import Decision, DiscountRuleCreate, WaiverCreate
from app.domain.registry.model import Estate, Unit

if TYPE_CHECKING:
    from app.demo import DemoContext

# Two requests the desk made this month, on the first units owing their management fee.
REQUESTS = [(WaiverKind.amount, Decimal("50.00"), "维修延误补偿"), (WaiverKind.percentage, Decimal("10"), "业主投诉处理补偿")]


def _actor(user: User, estate: Estate) -> Actor:
    return Actor(id=user.id, label=user.full_name, company_id=user.company_id,
                 roles=frozenset(Role(r) for r in user.roles), estate_ids=frozenset({estate.id}))


async def _open_fees(ctx: DemoContext, *, item: FeeItem, month: str, vacant: bool) -> list[Charge]:
    stmt = (select(Charge).join(Unit, Unit.id == Charge.unit_id)
            .where(Charge.fee_item_id == item.id, Charge.period == month, Charge.is_open(), Unit.is_vacant.is_(vacant))
            .order_by(Charge.unit_id).limit(len(REQUESTS)))
    return list((await ctx.session.execute(stmt)).scalars())


async def _estate(ctx: DemoContext, estate: Estate, users: dict[str, User]) -> None:
    code, now = estate.code.lower(), utcnow()
    month = estate_time.month_key(estate_time.today(estate, now=now))
    item = (await ctx.session.execute(select(FeeItem).where(FeeItem.estate_id == estate.id, FeeItem.code == "mgmt"))).scalar_one()
    admin, finance = _actor(users["admin"], estate), _actor(users[f"{code}.finance"], estate)
    # On top of the item's own 30% for vacant units: this winter's extra 20% for them.
    rule = await rules.create_rule(ctx.session, actor=admin, estate_id=estate.id, now=now, data=DiscountRuleCreate(
        fee_item_id=item.id, kind=RuleKind.vacant_unit, value=Decimal("20"), from_month=month, to_month=month,
        reason="空置房冬季优惠"))
    await rules.decide(ctx.session, actor=finance, rule_id=rule.id, action="approve", data=Decision(reason="按公司通知"),
                       finance_above=Decimal("500.00"), now=now)
    await rules.apply_rule(ctx.session, actor=finance, rule_id=rule.id, month=month, now=now)
    desk, supervisor = _actor(users[f"{code}.reception"], estate), _actor(users[f"{code}.supervisor"], estate)
    for charge, (kind, value, reason) in zip(await _open_fees(ctx, item=item, month=month, vacant=False), REQUESTS, strict=False):
        asked = await waivers.request_waiver(ctx.session, actor=desk, charge_id=charge.id, now=now,
                                             data=WaiverCreate(kind=kind, value=value, reason=reason))
        await waivers.approve(ctx.session, actor=supervisor, waiver_id=asked.id, data=Decision(), now=now,
                              finance_above=Decimal("500.00"))
        ctx.counts["waivers"] = ctx.counts.get("waivers", 0) + 1
    ctx.counts["discount_rules"] = ctx.counts.get("discount_rules", 0) + 1


async def waiver_history(ctx: DemoContext) -> None:
    users = {u.username: u for u in ctx.users}
    for estate in ctx.estates:
        await _estate(ctx, estate, users)
    await ctx.session.flush()
