"""The reconciliation's attention rule: every open discrepancy with a channel's statement is finance's."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attention.rules import Context, Found, Rule, _can, capped, item
from app.domain.auth.roles import Perm
from app.domain.calendar import estate_time
from app.domain.fees.channels.reconciliation.model import CATEGORY_NAMES, ItemState, MatchCategory, ReconciliationItem

# Money in the channel that nothing here accounts for is the one to look at first.
RANK = {MatchCategory.channel_only.value: 0, MatchCategory.amount_mismatch.value: 1, MatchCategory.status_mismatch.value: 2,
        MatchCategory.here_only.value: 3}


def _deadline(ctx: Context, row: ReconciliationItem) -> datetime:
    # Found the morning after the day; settled by the end of the day it was found.
    return estate_time.day_bounds(row.day, ctx.tz(row.estate_id))[1] + timedelta(days=1)


async def _open(session: AsyncSession, ctx: Context) -> Found:
    stmt = select(ReconciliationItem).where(ReconciliationItem.estate_id.in_(ctx.estate_ids),
                                            ReconciliationItem.status == ItemState.open.value)
    rank = case(RANK, value=ReconciliationItem.category, else_=4)
    rows, total = await capped(session, stmt, [rank, ReconciliationItem.day, ReconciliationItem.id])
    return [item(ctx, OPEN, estate_id=r.estate_id, deadline=_deadline(ctx, r), entity="reconciliation_item", entity_id=r.id,
                 link=f"/api/v1/reconciliation-items/{r.id}",
                 title=f"{r.day:%m月%d日}对账差异：{CATEGORY_NAMES[MatchCategory(r.category)]} {r.reference}"
                       + (f"（渠道 {r.channel_amount}元）" if r.channel_amount is not None else f"（本系统 {r.booked_amount}元）"))
            for (r,) in rows], total


OPEN = Rule("reconciliation_item", "支付渠道对账：每笔差异由财务处理并填写说明（入账、退款或说明原因）",
            _can(Perm.fees_configure), _open)

RULES: list[Rule] = [OPEN]
