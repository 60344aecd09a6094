"""The monthly billing run on the job clock (§5.2).

    billing_run   the 1st of each month, 06:00: bills the month that is starting
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import system_actor
from app.domain.calendar.estate_time import MONTHLY
from app.domain.fees.billing import runs as billing_runs
from app.domain.registry.model import Estate
from app.jobs.registry import JobSpec


async def billing_run(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Bill the month for every private unit; a month billed already creates nothing."""
    run, created = await billing_runs.run_month(session, actor=system_actor("billing_run"), estate=estate, month=period)
    return {"month": period, "run_id": run.id, "created": created, "total": run.total}


SPECS: list[JobSpec] = [
    JobSpec(name="billing_run", cron="0 6 1 * *", period_of=MONTHLY, func=billing_run,
            description="The month's charges for every private unit, once (§5.2)"),
]
