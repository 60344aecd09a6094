"""The corrections block of the month-end report: the month's cancelled charges and their replacements."""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.fees.corrections.schemas import MonthCorrections
from app.domain.fees.model import Charge, ChargeState

ZERO = Decimal("0.00")


async def month_corrections(session: AsyncSession, *, estate_id: uuid.UUID, of_month: Any) -> MonthCorrections:
    """`of_month`: the report's own SQL condition for a charge of the month, so both count the same charges."""
    cancelled = Charge.state == ChargeState.cancelled.value
    replacement = (Charge.state == ChargeState.open.value) & Charge.replaces_id.is_not(None)
    row = (await session.execute(select(
        func.count().filter(cancelled), func.coalesce(func.sum(Charge.amount).filter(cancelled), ZERO),
        func.count().filter(replacement), func.coalesce(func.sum(Charge.amount).filter(replacement), ZERO),
    ).where(Charge.estate_id == estate_id, of_month))).one()
    return MonthCorrections(cancelled_count=row[0], cancelled_amount=row[1], replacements_count=row[2],
                            replacements_amount=row[3], net_effect=row[3] - row[1])
