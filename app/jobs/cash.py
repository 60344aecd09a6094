"""The cash hand-over check on the job clock (交款, §5.4).

    cash_handover_check   daily 17:00 estate time: flags every cashier session of the day still
                          open with takings in it, and records the supervisor's alert
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import system_actor
from app.domain.calendar.estate_time import DAILY
from app.domain.fees.cash import service as cash
from app.domain.registry.model import Estate
from app.jobs.registry import JobSpec


async def cash_handover_check(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Flag the day's drawers not handed over by 17:00; a session is flagged once, however often this runs."""
    return await cash.flag_not_handed_over(session, estate=estate, day=date.fromisoformat(period),
                                           actor=system_actor("job:cash_handover_check"))


SPECS: list[JobSpec] = [
    JobSpec(name="cash_handover_check", cron="0 17 * * *", period_of=DAILY, func=cash_handover_check,
            description="Flag cashier sessions not handed to finance by 17:00 and alert the supervisor (§5.4)"),
]
