"""The monthly billing run on the job clock (§5.2).

    billing_run         the 1st of each month, 06:00: bills the month that is starting
    month_end_late_fees the month's last day, 23:00: posts the late fees unpaid charges accrued
    account_deduction   daily 06:30: settles open charges from prepaid accounts (billing runs do it too)
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import system_actor
from app.domain.calendar.estate_time import DAILY, MONTHLY
from app.domain.fees.billing import runs as billing_runs
from app.domain.fees.late_fees import service as late_fees
from app.domain.fees.prepaid import deductions as prepaid_deductions
from app.domain.registry.model import Estate
from app.jobs.registry import JobSpec


async def billing_run(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Bill the month for every private unit; a month billed already creates nothing."""
    run, created = await billing_runs.run_month(session, actor=system_actor("billing_run"), estate=estate, month=period)
    return {"month": period, "run_id": run.id, "created": created, "total": run.total}


async def month_end_late_fees(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Post what every unpaid overdue charge accrued by the month's last day, before the month-end
    report (23:30) counts late fees billed; run again, it posts nothing more."""
    return await late_fees.post_month_end(session, actor=system_actor("month_end_late_fees"), estate=estate, month=period)
async def account_deduction(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Settle every unit's open charges that its prepaid account can, oldest first."""
    return await prepaid_deductions.deduct_estate(session, actor=system_actor("account_deduction"), estate=estate)


SPECS: list[JobSpec] = [
    JobSpec(name="billing_run", cron="0 6 1 * *", period_of=MONTHLY, func=billing_run,
            description="The month's charges for every private unit, once (§5.2)"),
    JobSpec(name="month_end_late_fees", cron="0 23 last * *", period_of=MONTHLY, func=month_end_late_fees,
            description="Late fees accrued on unpaid charges, posted as charges before the month-end report (§5.8)"),
    JobSpec(name="account_deduction", cron="30 6 * * *", period_of=DAILY, func=account_deduction,
            description="Open charges settled from prepaid accounts (预存款抵扣), oldest first"),
]
