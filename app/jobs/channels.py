"""The money channels on the job clock (issue 18).

    channel_statement_import   daily 10:00 estate time: yesterday's WeChat Pay trade bill
                               downloaded, verified and matched (the channel builds it from
                               09:00); a forced re-run imports the day again, replacing its
                               lines and adding only discrepancies not yet in finance's queue
    channel_payments_poll      every five minutes: the channel asked about the payments still
                               pending. The backup for a notification that never came (the
                               channel's word on a QR paid from home) and the end of those
                               nobody paid: a paid order is booked exactly as its notification
                               books it (one locked path, so the two racing book once), one
                               past its expires_at is closed at the channel, a payment code
                               left undecided is reversed. See app/domain/fees/channels/resolve.py.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import get_settings
from app.domain.auth.principal import system_actor
from app.domain.base import utcnow
from app.domain.calendar.estate_time import FIVE_MINUTES, PREVIOUS_DAY
from app.domain.fees.channels import credentials, resolve
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


async def channel_payments_poll(session: AsyncSession, *, estate: Estate, period: str) -> dict[str, Any]:
    # The run's transaction reads and asks; each booking commits on its own (resolve.py says why),
    # so a run that fails half way leaves what it booked booked, as the notification would have.
    book_in = async_sessionmaker(session.bind, expire_on_commit=False, autoflush=False)
    return await resolve.poll(session, estate_id=estate.id, settings=get_settings(), now=utcnow(), book_in=book_in)


SPECS: list[JobSpec] = [
    JobSpec(name=JOB, cron="0 10 * * *", period_of=PREVIOUS_DAY, func=channel_statement_import, catch_up=3,
            description="Yesterday's WeChat Pay statement downloaded and matched; discrepancies to finance's queue (对账)"),
    JobSpec(name="channel_payments_poll", cron="*/5 * * * *", period_of=FIVE_MINUTES, func=channel_payments_poll,
            description="Ask WeChat Pay and Alipay about channel payments still pending: book the paid (a lost notification), "
                        "close the expired"),
]
