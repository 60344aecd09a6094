"""The duty-roster job: every morning, flag the public holidays of the coming 14 days nobody is rostered for (§5.1)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attendance import duty_roster as roster
from app.domain.audit import service as audit
from app.domain.auth.principal import system_actor
from app.domain.base import jsonable
from app.domain.calendar.estate_time import DAILY
from app.domain.registry.model import Estate
from app.jobs.registry import JobSpec

LOOK_AHEAD_DAYS = 14


async def duty_roster_gaps(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """The uncovered holidays from the period's day on; an audit entry names them when there are any."""
    first = DAILY.parse(period).date()
    found = await roster.roster(session, estate=estate, date_from=first, date_to=first + timedelta(days=LOOK_AHEAD_DAYS - 1))
    # Provisional days count like entered ones (a statutory holiday is one whatever the notice
    # adds); the count says how much of the fortnight may still change.
    summary: dict[str, Any] = jsonable({"from": found.date_from, "to": found.date_to, "uncovered_days": found.uncovered_days,
                        "provisional_days": len(found.provisional_days)})
    if found.uncovered_days:
        await audit.record(session, actor=system_actor("job:duty_roster_gaps"), action="duty_roster.uncovered",
                           entity="estate", entity_id=estate.id, estate_id=estate.id, after=summary)
        await session.flush()
    return summary


SPECS: list[JobSpec] = [
    JobSpec(name="duty_roster_gaps", cron="0 9 * * *", period_of=DAILY, func=duty_roster_gaps,
            description="Flag public holidays of the coming 14 days with nobody on duty (§5.1)"),
]
