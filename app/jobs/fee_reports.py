"""The fee reports on the job clock (§5.5, §5.8).

    saturday_register     Saturday 12:00: the register of the week that ended last night
                          (Saturday to Friday), for the supervisor
    month_end_fee_report  the month's last day, 23:30: the month's fee report for finance,
                          late enough that the whole last office day (and night duty) is in

Both store their report (app.domain.fees.reports.model.FeeReport). A forced re-run of a period
replaces the stored report, so a receipt taken after the run can still reach finance.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.calendar.estate_time import LAST_REGISTER_WEEK, MONTHLY
from app.domain.fees.reports import month_report
from app.domain.fees.reports import saturday_register as register
from app.domain.registry.model import Estate
from app.jobs.registry import JobSpec


async def saturday_register(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Store the week's register; a re-run replaces it."""
    row = await register.produce(session, estate=estate, week=period, produced_by="job:saturday_register")
    return {"week": period, "report_id": row.id, "lines": row.body["counts"]["lines"], "total": row.total}


async def month_end_fee_report(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Store the month's fee report; a re-run replaces it."""
    row = await month_report.produce(session, estate=estate, month=period, produced_by="job:month_end_fee_report")
    return {"month": period, "report_id": row.id, "collected": row.total}


SPECS: list[JobSpec] = [
    # The register week ending on the latest Friday before the run's day: on Saturday, the week that
    # ended last night; a run by hand mid-week produces the last finished week, never a partial one.
    JobSpec(name="saturday_register", cron="0 12 * * 6", period_of=LAST_REGISTER_WEEK, func=saturday_register,
            report="saturday_register",
            description="The week's receipts line by line with totals by item, method and receptionist (§5.5)"),
    JobSpec(name="month_end_fee_report", cron="30 23 last * *", period_of=MONTHLY, func=month_end_fee_report,
            report="month_end_fee_report",
            description="The month's fees per item and building: billed, collected, arrears, outstanding (§5.8)"),
]
