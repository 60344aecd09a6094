"""What the repair paper prints for an order: the names of its categories, urgencies and states."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.repairs.intake.model import RepairCategory
from app.domain.repairs.model import Urgency, WorkOrderStatus


async def category_names(session: AsyncSession, *, estate_id: uuid.UUID) -> dict[str, str]:
    """The estate's repair categories by code (plumbing -> 水暖): orders keep the code, paper shows the name."""
    rows = await session.execute(select(RepairCategory.code, RepairCategory.name).where(RepairCategory.estate_id == estate_id))
    return dict(rows.tuples().all())


S = WorkOrderStatus
STATE_NAMES = {
    S.pending_dispatch: "待派工", S.awaiting_technician_confirmation: "待维修人员确认", S.dispatched: "已派工",
    S.in_progress: "维修中", S.completed: "已完工", S.callback_done: "已回访", S.approved: "已审批",
    S.archived: "已归档", S.cancelled: "已取消", S.reopened: "重新处理",
}
URGENCY_NAMES = {Urgency.normal: "一般", Urgency.urgent: "紧急", Urgency.emergency: "特急"}
