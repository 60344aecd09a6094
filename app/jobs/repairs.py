"""The office's repair paperwork on the job clock (§5.6, §7.3.10).

    repair_daily_log          daily 18:10, after the 18:00 close: the day's repair log
    repair_approval_batch     Monday 08:00: LAST week's called-back orders for the supervisor
    repair_voucher_manifests  last day of the month, 17:00: vouchers to managers / records clerk
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import system_actor
from app.domain.calendar.estate_time import DAILY, MONTHLY, PREVIOUS_WEEK
from app.domain.registry.model import Estate
from app.domain.repairs.paperwork import approvals, daily_log, manifests
from app.jobs.registry import JobSpec


async def compile_daily_log(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Store the day's repair log as it stands at the close; a re-run replaces it."""
    log = await daily_log.compile_log(session, estate=estate, day=DAILY.parse(period).date())
    return {"day": period, "rows": len(log.rows)}


async def build_approval_batch(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Last week's called-back orders, batched for the supervisor's approval."""
    batch, built = await approvals.build_batch(session, actor=system_actor("repair_approval_batch"), estate=estate, week=period)
    return {"week": period, "batch_id": batch.id, "built": built}


async def build_voucher_manifests(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """The month's voucher hand-over manifests, one per jurisdiction and one for public areas."""
    rows, built = await manifests.build_manifests(session, actor=system_actor("repair_voucher_manifests"), estate=estate, month=period)
    return {"month": period, "manifests": len(rows), "built": built}


SPECS: list[JobSpec] = [
    JobSpec(name="repair_daily_log", cron="10 18 * * *", period_of=DAILY, func=compile_daily_log, report="repair_daily_log",
            description="The day's repair log with each order's state at the close (§5.6)"),
    JobSpec(name="repair_approval_batch", cron="0 8 * * 1", period_of=PREVIOUS_WEEK, func=build_approval_batch, report="approval_batch",
            description="Last week's called-back orders batched for the supervisor's approval (§7.3.10)"),
    JobSpec(name="repair_voucher_manifests", cron="0 17 last * *", period_of=MONTHLY, func=build_voucher_manifests,
            report="voucher_manifests",
            description="Month-end voucher hand-over: per jurisdiction to its manager, public areas to the records clerk (§7.3.10)"),
]
