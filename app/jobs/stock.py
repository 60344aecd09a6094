"""The month-end stocktake on the job clock (§5.7).

    stocktake_open     the 25th, 09:00: opens the month's count unless one is in progress or
                       the month is counted already, and reminds the desk (once); the days
                       left let the desk count before month end
    stocktake_overdue  the 1st, 00:05: flags last month's counts not posted by month end
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.calendar.estate_time import MONTHLY, PREVIOUS_MONTH
from app.domain.registry.model import Estate
from app.domain.stock import stocktake
from app.jobs.registry import JobSpec


def _check_month(period: str) -> None:
    MONTHLY.parse(period)  # the registry checks forced periods; this guards direct calls


async def stocktake_open(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Open the month's count if none is open and remind the desk; a second run changes nothing."""
    _check_month(period)
    return await stocktake.open_month_end(session, estate=estate, month=period)


async def stocktake_overdue(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Flag the month's counts still not posted (each once, audited, for the supervisor)."""
    _check_month(period)
    return await stocktake.flag_overdue(session, estate=estate, month=period)


SPECS: list[JobSpec] = [
    JobSpec(name="stocktake_open", cron="0 9 25 * *", period_of=MONTHLY, func=stocktake_open,
            description="Open the month-end stocktake and remind the desk to count (§5.7)"),
    # A run on the 1st is for the month that just ended; by hand mid-month, the last finished month.
    JobSpec(name="stocktake_overdue", cron="5 0 1 * *", period_of=PREVIOUS_MONTH, func=stocktake_overdue,
            description="Flag last month's stocktake not posted by month end (§5.7)"),
]
