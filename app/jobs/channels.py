"""The money channels on the job clock (issue 18).

    channel_statement_import   daily 10:00 estate time: yesterday's WeChat Pay trade bill
                               downloaded, verified and matched (the channel builds it from
                               09:00); a forced re-run imports the day again, replacing its
                               lines and adding only discrepancies not yet in finance's queue
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.domain.auth.principal import system_actor
from app.domain.calendar.estate_time import PREVIOUS_DAY
from app.domain.fees.channels import credentials
from app.domain.fees.channels.reconciliation import service as reconciliation
from app.domain.registry.model import Estate
from app.jobs.registry import JobSpec

JOB = "channel_statement_import"


async def channel_statement_import(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    """Import the estate's statement of `period` (yesterday); an estate without a channel is skipped."""
    try:
        read = await reconciliation.fetch_and_import(session, actor=system_actor(f"job:{JOB}"), estate=estate,
                                                     day=date.fromisoformat(period), settings=get_settings())
    except credentials.ChannelNotConfigured:
        return {"skipped": "no WeChat Pay merchant configured"}
    return {"day": period, "statement_id": read.id, "lines": read.line_count, "net": read.net,
            "counts": read.counts.model_dump(), "open_items": read.open_items}


SPECS: list[JobSpec] = [
    JobSpec(name=JOB, cron="0 10 * * *", period_of=PREVIOUS_DAY, func=channel_statement_import, catch_up=3,
            description="Yesterday's WeChat Pay statement downloaded and matched; discrepancies to finance's queue (对账)"),
]
