"""The cancellations' attention rule: a paid charge's cancel, asked, is an approver's to decide."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attention.rules import Context, Found, Rule, _can, capped, item
from app.domain.auth.roles import Perm
from app.domain.fees.corrections.model import CancellationState, ChargeCancellation


async def _to_decide(session: AsyncSession, ctx: Context) -> Found:
    # One's own request is someone else's to approve (nobody approves their own): not in one's queue.
    others = [ChargeCancellation.requested_by.is_distinct_from(ctx.actor.id)] if ctx.person and ctx.actor.id else []
    stmt = select(ChargeCancellation).where(ChargeCancellation.estate_id.in_(ctx.estate_ids),
                                            ChargeCancellation.status == CancellationState.requested, *others)
    rows, total = await capped(session, stmt, [ChargeCancellation.created_at, ChargeCancellation.id])
    return [item(ctx, TO_DECIDE, estate_id=c.estate_id, deadline=None, entity="charge_cancellation", entity_id=c.id,
                 link=f"/api/v1/charge-cancellations/{c.id}",
                 title=f"已收款收费取消申请 {c.amount_paid}元（{c.reason[:40]}）待审批") for (c,) in rows], total


TO_DECIDE = Rule("cancellation_to_approve", "已收款的收费取消，由主管或财务审批，款项转入预存款",
                 _can(Perm.charge_cancellations_approve), _to_decide)

RULES: list[Rule] = [TO_DECIDE]
