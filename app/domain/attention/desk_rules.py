"""Attention rules of complaints (§7.3.10); the stocktake's are in app/domain/stock/attention.py."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attention.rules import Context, Found, Rule, _can, capped, item
from app.domain.auth.roles import Perm
from app.domain.complaints.model import OPEN_STATES, Complaint, ComplaintStatus

_LINK = "/api/v1/complaints/{}"


async def _mine(session: AsyncSession, ctx: Context) -> Found:
    mine = [Complaint.handler_id == ctx.actor.id] if ctx.person else []
    stmt = select(Complaint).where(Complaint.estate_id.in_(ctx.estate_ids), Complaint.handler_id.is_not(None),
                                   Complaint.status.in_([s.value for s in OPEN_STATES]), *mine)
    rows, total = await capped(session, stmt, [Complaint.deadline, Complaint.id])
    return [item(ctx, HANDLING, estate_id=c.estate_id, deadline=c.deadline, entity="complaint", entity_id=c.id,
                 link=_LINK.format(c.id), title=f"处理投诉 {c.number}") for (c,) in rows], total


async def _to_assign(session: AsyncSession, ctx: Context) -> Found:
    waiting = [ComplaintStatus.registered.value, ComplaintStatus.reopened.value]
    stmt = select(Complaint).where(Complaint.estate_id.in_(ctx.estate_ids), Complaint.status.in_(waiting))
    rows, total = await capped(session, stmt, [Complaint.deadline, Complaint.id])
    return [item(ctx, TO_ASSIGN, estate_id=c.estate_id, deadline=c.deadline, entity="complaint", entity_id=c.id,
                 link=_LINK.format(c.id), title=f"投诉 {c.number} 待指派处理人") for (c,) in rows], total


async def _escalated(session: AsyncSession, ctx: Context) -> Found:
    stmt = select(Complaint).where(Complaint.estate_id.in_(ctx.estate_ids), Complaint.status == ComplaintStatus.escalated.value)
    rows, total = await capped(session, stmt, [Complaint.deadline, Complaint.id])
    return [item(ctx, ESCALATED, estate_id=c.estate_id, deadline=c.deadline, entity="complaint", entity_id=c.id,
                 link=_LINK.format(c.id), title=f"投诉 {c.number} 已升级，待客服总监处理") for (c,) in rows], total


async def _feedback(session: AsyncSession, ctx: Context) -> Found:
    stmt = select(Complaint).where(Complaint.estate_id.in_(ctx.estate_ids), Complaint.status == ComplaintStatus.resolved.value)
    rows, total = await capped(session, stmt, [Complaint.resolved_at, Complaint.id])
    return [item(ctx, FEEDBACK, estate_id=c.estate_id, deadline=None, entity="complaint", entity_id=c.id,
                 link=_LINK.format(c.id), title=f"投诉 {c.number} 已处理，回访业主是否满意") for (c,) in rows], total


HANDLING = Rule("complaint_handling", "投诉按严重程度限期处理", _can(Perm.complaints_write), _mine)
TO_ASSIGN = Rule("complaint_to_assign", "投诉登记后指派处理人", _can(Perm.complaints_manage), _to_assign)
ESCALATED = Rule("complaint_escalated", "逾期投诉升级至客服总监", _can(Perm.callbacks_resolve), _escalated)
FEEDBACK = Rule("complaint_feedback", "投诉处理后征询业主意见", _can(Perm.complaints_write), _feedback)

RULES: list[Rule] = [HANDLING, TO_ASSIGN, ESCALATED, FEEDBACK]
