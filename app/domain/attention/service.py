"""What needs me now (the signed-in user), and what an estate has open (the wall board)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attention import desk_rules
from app.domain.attention.rules import RULES as REPAIR_AND_CASH_RULES
from app.domain.attention.rules import Context
from app.domain.attention.schemas import AttentionItem, AttentionQueue, AttentionUrgency, WallBoard
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.calendar import attention as calendar_attention
from app.domain.fees.channels.reconciliation import attention as reconciliation_attention
from app.domain.fees.corrections import attention as cancellation_attention
from app.domain.fees.waivers import attention as waiver_attention
from app.domain.registry.model import Estate
from app.domain.registry.script import in_script
from app.domain.registry.service import check_estate
from app.domain.stock import attention as stock_attention

_ORDER = {AttentionUrgency.overdue: 0, AttentionUrgency.due_soon: 1, AttentionUrgency.later: 2}
RULES = [*REPAIR_AND_CASH_RULES, *desk_rules.RULES, *stock_attention.RULES, *calendar_attention.RULES, *waiver_attention.RULES,
         *cancellation_attention.RULES, *reconciliation_attention.RULES]


async def queue(session: AsyncSession, *, actor: Actor, now: datetime | None = None) -> AttentionQueue:
    now = now or utcnow()
    estates = list((await session.execute(select(Estate).where(Estate.id.in_(actor.estate_ids))
                                          .order_by(Estate.name))).scalars()) if actor.estate_ids else []
    ctx = Context(actor=actor, estates=estates, now=now)
    items: list[AttentionItem] = []
    counts: dict[str, int] = {}
    for rule in RULES:
        if not estates or not rule.applies(actor):
            continue
        found, total = await rule.find(session, ctx)
        items.extend(found)
        counts[rule.kind] = total
    items.sort(key=lambda i: (_ORDER[i.urgency], i.deadline is None, i.deadline.timestamp() if i.deadline else 0, i.kind))
    # Each item in its own estate's characters: one person may work in estates that chose differently.
    scripts = {e.id: e.script for e in estates}
    items = [i.model_copy(update={"title": in_script(i.title, scripts[i.estate_id]), "rule": in_script(i.rule, scripts[i.estate_id])})
             for i in items]
    return AttentionQueue(generated_at=now, items=items, counts=counts,
                          overdue=sum(1 for i in items if i.urgency is AttentionUrgency.overdue))


async def wall_board(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, now: datetime | None = None) -> WallBoard:
    """Every rule over the whole estate, whoever must act on it."""
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    now = now or utcnow()
    ctx = Context(actor=actor, estates=[estate], now=now, person=False)
    counts, overdue = {}, {}
    for rule in RULES:
        found, total = await rule.find(session, ctx)
        counts[rule.kind] = total
        overdue[rule.kind] = sum(1 for i in found if i.urgency is AttentionUrgency.overdue)
    return WallBoard(estate_id=estate.id, generated_at=now, counts=counts, overdue=overdue)
