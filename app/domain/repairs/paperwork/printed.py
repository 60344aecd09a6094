"""What the repair paper prints for an order: the names of its categories and urgencies (its states
are named by the daily log's table, in whichever characters the estate writes)."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.repairs.intake.model import RepairCategory
from app.domain.repairs.model import Urgency


async def category_names(session: AsyncSession, *, estate_id: uuid.UUID) -> dict[str, str]:
    """The estate's repair categories by code (plumbing -> 水暖): orders keep the code, paper shows the name."""
    rows = await session.execute(select(RepairCategory.code, RepairCategory.name).where(RepairCategory.estate_id == estate_id))
    return dict(rows.tuples().all())


URGENCY_NAMES = {Urgency.normal: "一般", Urgency.urgent: "紧急", Urgency.emergency: "特急"}
