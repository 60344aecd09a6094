"""The rules that put something in front of someone, each one query over the user's estates.

A rule names the permission (or role) that makes it someone's business, and reads the
records as they are: nothing here is stored, so the queue cannot drift from the truth.
Rules of other areas (complaints, stocktakes) register themselves in RULES the same way.
"""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnExpressionArgument, Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attention.schemas import AttentionItem, AttentionUrgency
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm, Role
from app.domain.calendar import estate_time
from app.domain.callbacks.model import Callback, CallbackStatus
from app.domain.fees.cash.model import CashierSession, SessionAdjustment, SessionStatus
from app.domain.fees.payments.model import Receipt
from app.domain.registry.model import Estate
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.owner_code_model import OwnerCode, OwnerCodeStatus
from app.domain.repairs.orders.schedule_model import ReplyPromise
from app.domain.repairs.paperwork.model import ApprovalBatch, ApprovalLine, LineDecision, VoucherManifest

SOON = timedelta(hours=24)
CAP = 50  # items per rule; the count says how many there are in all
CASH_DEADLINE = time(17, 0)


@dataclass(frozen=True)
class Context:
    actor: Actor
    estates: Sequence[Estate]
    now: datetime
    # Person rules look at the user; board rules (user None) at the whole estate.
    person: bool = True

    @property
    def estate_ids(self) -> list[uuid.UUID]:
        return [e.id for e in self.estates]

    def tz(self, estate_id: uuid.UUID) -> ZoneInfo:
        return estate_time.estate_zone(next(e for e in self.estates if e.id == estate_id))


def urgency(deadline: datetime | None, now: datetime) -> AttentionUrgency:
    if deadline is None:
        return AttentionUrgency.later
    if deadline < now:
        return AttentionUrgency.overdue
    return AttentionUrgency.due_soon if deadline - now <= SOON else AttentionUrgency.later


Found = tuple[list[AttentionItem], int]


@dataclass(frozen=True)
class Rule:
    kind: str
    rule: str
    applies: Callable[[Actor], bool]
    find: Callable[[AsyncSession, Context], Awaitable[Found]]


def item(ctx: Context, rule: Rule, *, estate_id: uuid.UUID, title: str, deadline: datetime | None, entity: str,
         entity_id: uuid.UUID | str, link: str, number: str | None = None) -> AttentionItem:
    deadline = deadline.astimezone(UTC) if deadline else None  # one zone in the answer: comparable as text
    return AttentionItem(kind=rule.kind, rule=rule.rule, estate_id=estate_id, title=title, deadline=deadline,
                         urgency=urgency(deadline, ctx.now), entity=entity, entity_id=str(entity_id), number=number, link=link)


def order_number(order_id: Any) -> Any:
    """The number of the work order `order_id` names, as a column of the rule's query."""
    return select(WorkOrder.number).where(WorkOrder.id == order_id).scalar_subquery()


async def capped(session: AsyncSession, stmt: Select[*tuple[Any, ...]], order: Sequence[ColumnExpressionArgument[Any]]
                 ) -> tuple[list[tuple[Any, ...]], int]:
    """The first CAP rows and how many there are in all, in one round trip (a window count)."""
    rows = (await session.execute(stmt.add_columns(func.count().over()).order_by(*order).limit(CAP))).all()
    return [tuple(r)[:-1] for r in rows], int(rows[0][-1]) if rows else 0


# --- the rules ---------------------------------------------------------------------------------

async def _reply_promises(session: AsyncSession, ctx: Context) -> Found:
    stmt = select(ReplyPromise).where(ReplyPromise.estate_id.in_(ctx.estate_ids), ReplyPromise.closed_at.is_(None),
                                      ReplyPromise.owner_told_at.is_(None))
    rows, total = await capped(session, stmt.add_columns(order_number(ReplyPromise.work_order_id)),
                               [ReplyPromise.due_at, ReplyPromise.id])
    return [item(ctx, REPLY, estate_id=p.estate_id, deadline=p.due_at, entity="work_order", entity_id=p.work_order_id,
                 link=f"/api/v1/work-orders/{p.work_order_id}", number=number,
                 title="答复业主维修时间" if p.confirmed_at else "等待维修工确认时间后答复业主")
            for p, number in rows], total


async def _callbacks_due(session: AsyncSession, ctx: Context) -> Found:
    stmt = select(Callback).where(Callback.estate_id.in_(ctx.estate_ids), Callback.status == CallbackStatus.open.value,
                                  Callback.due_at < ctx.now + SOON)
    rows, total = await capped(session, stmt.add_columns(order_number(Callback.work_order_id)), [Callback.due_at, Callback.id])
    return [item(ctx, CALLBACKS, estate_id=c.estate_id, deadline=c.due_at, entity="callback", entity_id=c.id, number=number,
                 link=f"/api/v1/callbacks/{c.id}", title="回访业主（完工7日内）") for c, number in rows], total


async def _escalated_callbacks(session: AsyncSession, ctx: Context) -> Found:
    stmt = select(Callback).where(Callback.estate_id.in_(ctx.estate_ids), Callback.status == CallbackStatus.escalated.value)
    rows, total = await capped(session, stmt.add_columns(order_number(Callback.work_order_id)),
                               [Callback.escalated_at, Callback.id])
    return [item(ctx, ESCALATED, estate_id=c.estate_id, deadline=None, entity="callback", entity_id=c.id, number=number,
                 link=f"/api/v1/callbacks/{c.id}", title="回访发现问题，待客服总监处理") for c, number in rows], total


async def _to_confirm(session: AsyncSession, ctx: Context) -> Found:
    mine = [WorkOrder.technician_id == ctx.actor.id] if ctx.person else []
    promise = (select(func.min(ReplyPromise.due_at)).where(ReplyPromise.work_order_id == WorkOrder.id,
                                                           ReplyPromise.closed_at.is_(None)).scalar_subquery())
    stmt = select(WorkOrder, promise).where(
        WorkOrder.estate_id.in_(ctx.estate_ids),
        WorkOrder.status == WorkOrderStatus.awaiting_technician_confirmation.value, *mine)
    rows, total = await capped(session, stmt, [promise.asc().nulls_last(), WorkOrder.created_at])
    return [item(ctx, CONFIRM, estate_id=o.estate_id, deadline=due, entity="work_order", entity_id=o.id, number=o.number,
                 link=f"/api/v1/work-orders/{o.id}", title="确认上门维修时间") for o, due in rows], total


def _cash_deadline(ctx: Context, estate_id: uuid.UUID, day: date) -> datetime:
    return datetime.combine(day, CASH_DEADLINE, tzinfo=ctx.tz(estate_id))


async def _cash(session: AsyncSession, ctx: Context) -> Found:
    took = or_(exists().where(Receipt.cashier_session_id == CashierSession.id),
               exists().where(SessionAdjustment.cashier_session_id == CashierSession.id))
    mine = [CashierSession.cashier_id == ctx.actor.id] if ctx.person else []
    stmt = select(CashierSession).where(CashierSession.estate_id.in_(ctx.estate_ids),
                                        CashierSession.status == SessionStatus.open.value, took, *mine)
    rows, total = await capped(session, stmt, [CashierSession.day, CashierSession.id])
    return [item(ctx, CASH, estate_id=s.estate_id, deadline=_cash_deadline(ctx, s.estate_id, s.day), entity="cashier_session",
                 entity_id=s.id, link=f"/api/v1/cashier-sessions/{s.id}", title=f"{s.day:%m月%d日}收款交财务")
            for (s,) in rows], total


async def _approvals(session: AsyncSession, ctx: Context) -> Found:
    pending = func.count(ApprovalLine.id)
    stmt = (select(ApprovalBatch, pending).join(ApprovalLine, ApprovalLine.batch_id == ApprovalBatch.id)
            .where(ApprovalBatch.estate_id.in_(ctx.estate_ids), ApprovalLine.decision == LineDecision.pending.value)
            .group_by(ApprovalBatch.id))
    rows, total = await capped(session, stmt, [ApprovalBatch.built_at, ApprovalBatch.id])
    out = []
    for batch, n in rows:
        # The Monday batch is for that Monday: decided by the end of the day it was built.
        tz = ctx.tz(batch.estate_id)
        _, deadline = estate_time.day_bounds(estate_time.today(tz, now=batch.built_at), tz)
        out.append(item(ctx, APPROVALS, estate_id=batch.estate_id, deadline=deadline, entity="approval_batch",
                        entity_id=batch.id, link=f"/api/v1/approval-batches/{batch.id}", title=f"{batch.week} 维修单审批（{n}张待批）"))
    return out, total


async def _manifests(session: AsyncSession, ctx: Context) -> Found:
    mine = [VoucherManifest.recipient_id == ctx.actor.id] if ctx.person else []
    stmt = select(VoucherManifest).where(VoucherManifest.estate_id.in_(ctx.estate_ids),
                                         VoucherManifest.acknowledged_at.is_(None), *mine)
    rows, total = await capped(session, stmt, [VoucherManifest.built_at, VoucherManifest.id])
    return [item(ctx, MANIFESTS, estate_id=m.estate_id, deadline=m.built_at + timedelta(days=3), entity="voucher_manifest",
                 entity_id=m.id, link=f"/api/v1/voucher-manifests/{m.id}", title=f"{m.month} 维修凭证移交签收")
            for (m,) in rows], total


async def _callback_rate(session: AsyncSession, ctx: Context) -> Found:
    from app.domain.callbacks.model import RATE_TARGET
    from app.domain.callbacks.rates import count

    out = []
    for estate in ctx.estates:
        tz = estate_time.estate_zone(estate)
        start, end = estate_time.week_bounds(estate_time.week_key(estate_time.today(tz, now=ctx.now)), tz)
        counts = await count(session, estate_id=estate.id, start=start, end=end, now=ctx.now)
        if counts.rate is not None and counts.rate < RATE_TARGET:
            out.append(item(ctx, RATE, estate_id=estate.id, deadline=end, entity="estate", entity_id=estate.id,
                            link=f"/api/v1/estates/{estate.id}/callback-rate",
                            title=f"本周回访率 {counts.rate:.0%}，低于60%（还需 {counts.needed} 个及时回访）"))
    return out, len(out)


async def _webhooks_off(session: AsyncSession, ctx: Context) -> Found:
    from app.domain.events.model import WebhookEndpoint

    # Switched off by the dispatcher after a day of failures (a user's own switch-off is no alert).
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.estate_id.in_(ctx.estate_ids), WebhookEndpoint.active.is_(False),
                                         WebhookEndpoint.disabled_reason.like("failed %"))
    rows, total = await capped(session, stmt, [WebhookEndpoint.disabled_at, WebhookEndpoint.id])
    return [item(ctx, WEBHOOKS, estate_id=w.estate_id, deadline=w.disabled_at, entity="webhook_endpoint", entity_id=w.id,
                 link=f"/api/v1/webhooks/{w.id}", title=f"接口推送已停用：{w.url}") for (w,) in rows], total


async def _locked_codes(session: AsyncSession, ctx: Context) -> Found:
    stmt = select(OwnerCode).where(OwnerCode.estate_id.in_(ctx.estate_ids), OwnerCode.status == OwnerCodeStatus.locked.value)
    rows, total = await capped(session, stmt.add_columns(order_number(OwnerCode.work_order_id)),
                               [OwnerCode.locked_at, OwnerCode.id])
    return [item(ctx, CODES_LOCKED, estate_id=c.estate_id, deadline=None, entity="work_order", entity_id=c.work_order_id,
                 number=number, link=f"/api/v1/work-orders/{c.work_order_id}/owner-code",
                 title="完工确认码多次输错已锁定，请核实后重新发码")
            for c, number in rows], total


def _supervises(actor: Actor) -> bool:
    # Only they may unlock (owner_codes.may_unlock); the desk would only see what it cannot act on.
    return actor.has_role(Role.supervisor) or actor.has_role(Role.admin)


def _can(perm: Perm) -> Callable[[Actor], bool]:
    return lambda actor: actor.can(perm)


REPLY = Rule("reply_promise", "§7.3.7 答复业主：无人可派时承诺的回电", _can(Perm.orders_dispatch), _reply_promises)
CALLBACKS = Rule("callback_due", "§7.3.9 完工后一周内回访", _can(Perm.callbacks_write), _callbacks_due)
ESCALATED = Rule("callback_escalated", "§7.3.9 回访发现的问题由客服总监处理", _can(Perm.callbacks_resolve), _escalated_callbacks)
CONFIRM = Rule("order_to_confirm", "§7.3.7 维修工确认上门时间", _can(Perm.orders_work), _to_confirm)
CASH = Rule("cash_handover", "§5.4 每日17:00前收款交财务", _can(Perm.cash_hand_over), _cash)
APPROVALS = Rule("approval_batch", "§7.3.10 每周一回访完的维修单交主管审批", _can(Perm.orders_approve), _approvals)
MANIFESTS = Rule("voucher_manifest", "§7.3.10 月底维修凭证交片区管理员", _can(Perm.vouchers_receive), _manifests)
RATE = Rule("callback_rate_low", "§6.4 回访率不低于60%", _can(Perm.orders_approve), _callback_rate)

WEBHOOKS = Rule("webhook_disabled", "接口连续失败一天之后停用，需管理员处理", _can(Perm.webhooks_manage), _webhooks_off)

CODES_LOCKED = Rule("owner_code_locked", "完工确认码输错次数超限：主管核实后重新发码", _supervises, _locked_codes)

RULES: list[Rule] = [REPLY, CALLBACKS, ESCALATED, CONFIRM, CASH, APPROVALS, MANIFESTS, RATE, WEBHOOKS, CODES_LOCKED]
