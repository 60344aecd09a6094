"""The complaint job: every morning, escalate overdue complaints to the CS director."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import system_actor
from app.domain.base import utcnow
from app.domain.calendar.estate_time import DAILY, estate_zone
from app.domain.complaints import service as complaints_service
from app.domain.registry.model import Estate
from app.jobs.registry import JobSpec


async def complaint_overdue(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Escalate every open complaint past its deadline (each once, audited, announced as deadline.missed).

    The cut-off is now, or the end of the period's day for a run made up for a past day, so a
    late catch-up run judges that day as it was and the next day's run does the rest.
    """
    _, day_end = DAILY.bounds(period, estate_zone(estate))
    now = utcnow()
    return await complaints_service.escalate_overdue(session, actor=system_actor("job:complaint_overdue"),
                                                     estate_id=estate.id, cutoff=min(now, day_end), at=now)


SPECS: list[JobSpec] = [
    JobSpec(name="complaint_overdue", cron="30 8 * * *", period_of=DAILY, func=complaint_overdue,
            description="Escalate complaints past their deadline to the CS director (業主投訴處置)"),
]
