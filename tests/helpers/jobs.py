"""A test job for the runner and the clock: what it does when it runs, and its spec."""
from __future__ import annotations

import asyncio
import os

from app.domain.audit import service as audit
from app.domain.auth.principal import system_actor
from app.jobs.registry import DAILY, JobSpec

TICK_SECONDS = float(os.environ.get("PROPDESK_TEST_TICK_SECONDS", "0.3"))


async def tick(session, *, estate, period):
    """A test job: writes one audit entry per body run, so the body's runs can be counted."""
    await asyncio.sleep(TICK_SECONDS)
    await audit.record(session, actor=system_actor("test"), action="test.tick", entity="job",
                       entity_id=period, estate_id=estate.id if estate else None)
    return {"estate": estate.code if estate else None}

TICK = JobSpec(name="test_tick", cron="0 17 * * *", period_of=DAILY, func=tick, description="counts its runs")
