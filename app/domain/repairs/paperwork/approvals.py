"""Monday's approval batch (§7.3.10): last week's called-back orders go to the supervisor,
who approves each line or returns it to the desk with a reason.

A week is batched once: building it again answers ApprovalBatchAlreadyBuilt (409) with the
existing batch's id, and the job then reports the batch it found. A week that has not
ended cannot be batched, so no callback of that week is left out.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.callbacks.model import Callback
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry
from app.domain.registry.model import Building, Estate, Unit
from app.domain.registry.names import place
from app.domain.registry.script import script_of
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.paperwork.model import ApprovalBatch, ApprovalLine, LineDecision, ManifestLine, VoucherManifest
from app.domain.repairs.paperwork.schemas import ApprovalBatchDetail, ApprovalBatchRead, ApprovalLineRead
from app.domain.visibility import Visible, load_visible


class ApprovalBatchNotFound(NotFound):
    title = "Approval batch not found"
    title_zh = "未找到该审批批次"


APPROVAL_BATCH = Visible(model=ApprovalBatch, missing=ApprovalBatchNotFound)


class ApprovalLineNotFound(NotFound):
    title = "Approval line not found"
    title_zh = "未找到该审批明细"


class ApprovalBatchAlreadyBuilt(Conflict):
    title = "The approval batch of that week has been built already"
    title_zh = "该周的审批批次已生成"


class WeekNotOver(Invalid):
    title = "That week has not ended yet; its batch is built from the following Monday"
    title_zh = "该周尚未结束；审批批次在下周一起生成"


async def build_batch(session: AsyncSession, *, actor: Actor, estate: Estate, week: str) -> tuple[ApprovalBatch, bool]:
    """The week's batch and whether it was built now (False: it existed already)."""
    existing = (await session.execute(
        select(ApprovalBatch).where(ApprovalBatch.estate_id == estate.id, ApprovalBatch.week == week))).scalar_one_or_none()
    if existing is not None:
        return existing, False
    start, end = estate_time.week_bounds(week, estate_time.estate_zone(estate))
    if end > utcnow():
        raise WeekNotOver(field="week", week=week)
    batch = ApprovalBatch(estate_id=estate.id, week=week, built_at=utcnow(), built_by=actor.id)
    session.add(batch)
    await session.flush()
    orders = (await session.execute(
        select(WorkOrder.id).where(WorkOrder.estate_id == estate.id, WorkOrder.status == WorkOrderStatus.callback_done.value,
                                   WorkOrder.callback_done_at >= start, WorkOrder.callback_done_at < end)
        .order_by(WorkOrder.callback_done_at, WorkOrder.id))).scalars().all()
    session.add_all([ApprovalLine(estate_id=estate.id, batch_id=batch.id, work_order_id=oid) for oid in orders])
    await session.flush()
    await audit.record(session, actor=actor, action="approval_batch.build", entity="approval_batch", entity_id=batch.id,
                       estate_id=estate.id, after={**snapshot(batch), "lines": len(orders)})
    return batch, True


async def create_batch(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, week: str) -> ApprovalBatchDetail:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    batch, built = await build_batch(session, actor=actor, estate=estate, week=week)
    if not built:
        raise ApprovalBatchAlreadyBuilt(field="week", batch_id=str(batch.id))
    return await _detail(session, batch)


async def _counts(session: AsyncSession, batch_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    def n(decision: LineDecision) -> ColumnElement[int]:
        return func.count(case((ApprovalLine.decision == decision.value, 1)))

    stmt = (select(ApprovalLine.batch_id, func.count(), n(LineDecision.pending), n(LineDecision.approved), n(LineDecision.returned))
            .where(ApprovalLine.batch_id.in_(batch_ids)).group_by(ApprovalLine.batch_id))
    return {r[0]: dict(lines=r[1], pending=r[2], approved=r[3], returned=r[4]) for r in (await session.execute(stmt)).all()}


def _read(batch: ApprovalBatch, counts: dict[str, int] | None) -> ApprovalBatchRead:
    return ApprovalBatchRead(id=batch.id, estate_id=batch.estate_id, week=batch.week, built_at=batch.built_at,
                             built_by=batch.built_by, **(counts or {}))


class ApprovalBatchSort(StrEnum):
    """The keys approval batches sort by."""

    week = "week"
    built_at = "built_at"


async def list_batches(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID,
                       page: PageRequest) -> tuple[list[ApprovalBatchRead], int]:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(ApprovalBatch).where(ApprovalBatch.estate_id == estate.id)
    sortable = {ApprovalBatchSort.week: ApprovalBatch.week, ApprovalBatchSort.built_at: ApprovalBatch.built_at}
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[ApprovalBatch.week.desc(), ApprovalBatch.id])
    counts = await _counts(session, [b.id for b in rows])
    return [_read(b, counts.get(b.id)) for b in rows], total


async def get_batch(session: AsyncSession, *, actor: Actor, batch_id: uuid.UUID) -> ApprovalBatchDetail:
    return await _detail(session, await load_visible(session, APPROVAL_BATCH, batch_id, actor=actor))


async def _line_reads(session: AsyncSession, *, batch_id: uuid.UUID, line_id: uuid.UUID | None = None) -> list[ApprovalLineRead]:
    # The latest reached callback's score (a reopened order has one callback per round).
    score = (select(Callback.score).where(Callback.work_order_id == WorkOrder.id, Callback.done_at.is_not(None))
             .order_by(Callback.round.desc()).limit(1).correlate(WorkOrder).scalar_subquery())
    stmt = (
        select(ApprovalLine, WorkOrder, ServiceRequest, Unit, Building, User.full_name, score)
        .join(WorkOrder, WorkOrder.id == ApprovalLine.work_order_id)
        .join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id)
        .outerjoin(Unit, Unit.id == WorkOrder.unit_id).outerjoin(Building, Building.id == Unit.building_id)
        .outerjoin(User, User.id == WorkOrder.technician_id)
        .where(ApprovalLine.batch_id == batch_id)
        .order_by(WorkOrder.callback_done_at, ApprovalLine.id)
    )
    if line_id is not None:
        stmt = stmt.where(ApprovalLine.id == line_id)
    batch = await session.get(ApprovalBatch, batch_id)
    script = await script_of(session, batch.estate_id if batch else None)
    return [
        ApprovalLineRead(id=ln.id, batch_id=ln.batch_id, work_order_id=o.id, work_order_number=o.number, decision=ln.decision,
                         reason=ln.reason,
                         decided_by=ln.decided_by, decided_at=ln.decided_at, order_status=o.status, category=o.category,
                         description=r.description, place=place(u, b, r.location, script=script), technician_id=o.technician_id,
                         technician_name=tech, completed_at=o.completed_at, callback_done_at=o.callback_done_at,
                         callback_score=sc)
        for ln, o, r, u, b, tech, sc in (await session.execute(stmt)).all()
    ]


async def _detail(session: AsyncSession, batch: ApprovalBatch) -> ApprovalBatchDetail:
    counts = (await _counts(session, [batch.id])).get(batch.id)
    items = await _line_reads(session, batch_id=batch.id)
    return ApprovalBatchDetail.model_validate({**_read(batch, counts).model_dump(), "items": items})


async def decide_line(
    session: AsyncSession, *, actor: Actor, batch_id: uuid.UUID, line_id: uuid.UUID, approve: bool, reason: str = "",
) -> ApprovalLineRead:
    """Approve the line's order, or return it to the desk with a reason."""
    batch = await load_visible(session, APPROVAL_BATCH, batch_id, actor=actor)
    line = (await session.execute(
        select(ApprovalLine).where(ApprovalLine.id == line_id, ApprovalLine.batch_id == batch.id))).scalar_one_or_none()
    if line is None:
        raise ApprovalLineNotFound()
    now = utcnow()
    line.check("approve" if approve else "return_to_desk")
    order = await session.get(WorkOrder, line.work_order_id, with_for_update=True)
    assert order is not None
    if approve:
        await audit.apply(session, actor=actor, row=order, action="approve", by=actor.id, at=now)
        await _archive_if_handed_over(session, actor=actor, order=order, at=now)
    else:
        await audit.apply(session, actor=actor, row=order, action="return_to_desk", reason=reason)
    # The line's entry follows its order's, as it always has.
    if approve:
        await audit.apply(session, actor=actor, row=line, action="approve", by=actor.id, at=now)
    else:
        await audit.apply(session, actor=actor, row=line, action="return_to_desk", reason=reason, by=actor.id, at=now)
    [read] = await _line_reads(session, batch_id=batch.id, line_id=line.id)
    return read


async def _archive_if_handed_over(session: AsyncSession, *, actor: Actor, order: WorkOrder, at: datetime) -> None:
    # Its voucher went to the owner's archive already: approving it completes the file.
    handed = (await session.execute(
        select(ManifestLine.id).join(VoucherManifest, VoucherManifest.id == ManifestLine.manifest_id)
        .where(ManifestLine.work_order_id == order.id, VoucherManifest.acknowledged_at.is_not(None)).limit(1))).first()
    if handed is not None:
        await audit.apply(session, actor=actor, row=order, action="archive", at=at)
