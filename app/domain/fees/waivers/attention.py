"""The waivers' attention rule: a requested waiver is an approver's to decide (issue 17)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attention.rules import Context, Found, Rule, _can, capped, item
from app.domain.auth.roles import Perm
from app.domain.fees.waivers.model import Waiver, WaiverState


async def _to_decide(session: AsyncSession, ctx: Context) -> Found:
    # One's own requests are someone else's to approve: not in one's own queue.
    others = [Waiver.requested_by.is_distinct_from(ctx.actor.id)] if ctx.person and ctx.actor.id else []
    stmt = select(Waiver).where(Waiver.estate_id.in_(ctx.estate_ids), Waiver.status == WaiverState.requested, *others)
    rows, total = await capped(session, stmt, [Waiver.created_at, Waiver.id])
    return [item(ctx, TO_DECIDE, estate_id=w.estate_id, deadline=None, entity="waiver", entity_id=w.id,
                 link=f"/api/v1/waivers/{w.id}", title=f"减免申请 {w.amount}元（{w.reason[:40]}）待审批") for (w,) in rows], total


TO_DECIDE = Rule("waiver_to_approve", "减免由主管审批，超额由财务审批", _can(Perm.waivers_approve), _to_decide)

RULES: list[Rule] = [TO_DECIDE]
