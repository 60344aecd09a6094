"""The stocktake's attention rule (§5.7): a count in progress is the desk's to finish by month end."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attention.rules import Context, Found, Rule, _can, capped, item
from app.domain.auth.roles import Perm
from app.domain.stock.model import OPEN_STATES, Stocktake


async def _counts_in_progress(session: AsyncSession, ctx: Context) -> Found:
    stmt = select(Stocktake).where(Stocktake.estate_id.in_(ctx.estate_ids), Stocktake.status.in_([s.value for s in OPEN_STATES]))
    rows, total = await capped(session, stmt, [Stocktake.due_at, Stocktake.id])
    return [item(ctx, STOCKTAKE, estate_id=s.estate_id, deadline=s.due_at, entity="stocktake", entity_id=s.id,
                 link=f"/api/v1/stocktakes/{s.id}", title=f"{s.month} 月底库存盘点 {s.reference}（上报财务）")
            for (s,) in rows], total


STOCKTAKE = Rule("stocktake_due", "§5.7 每月月底前对小区库存进行盘存，上报财务部", _can(Perm.stocktake_count), _counts_in_progress)

RULES: list[Rule] = [STOCKTAKE]
