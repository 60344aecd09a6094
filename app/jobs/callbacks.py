"""The callback jobs: flag overdue callbacks every morning; record last week's callback rate on Mondays."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import system_actor
from app.domain.base import jsonable, utcnow
from app.domain.calendar.estate_time import DAILY, PREVIOUS_WEEK, estate_zone
from app.domain.callbacks import rates
from app.domain.callbacks import service as callbacks_service
from app.domain.registry.model import Estate
from app.jobs.registry import JobSpec


async def callbacks_overdue(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Flag the open callbacks whose 7 days ended before the period's day began (each once, audited)."""
    day_start, _ = DAILY.bounds(period, estate_zone(estate))
    return await callbacks_service.mark_overdue(session, actor=system_actor("job:callbacks_overdue"), estate_id=estate.id,
                                                due_before=day_start, at=utcnow())


async def callback_rate_weekly(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Record the ISO week's callback rate; below 60% the record and an audit entry say so."""
    record = await rates.record_week(session, actor=system_actor("job:callback_rate_weekly"), estate=estate, week=period)
    summary: dict[str, Any] = jsonable({"week": record.week, "completed": record.completed, "done_within_7_days": record.done_within_7_days,
                     "pending": record.pending, "rate": record.rate, "below_target": record.below_target})
    return summary


SPECS: list[JobSpec] = [
    JobSpec(name="callbacks_overdue", cron="30 8 * * *", period_of=DAILY, func=callbacks_overdue,
            description="Flag callbacks past their 7 days (§7.3.9) for the morning's worklist"),
    JobSpec(name="callback_rate_weekly", cron="0 8 * * 1", period_of=PREVIOUS_WEEK, func=callback_rate_weekly, report="callback_rate",
            description="Record last ISO week's callback rate (§6.4); flag it when under 60%"),
]
