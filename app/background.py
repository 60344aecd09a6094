"""A process's background roles: the job clock and the dispatcher (webhooks, owner notifications).

`propdesk serve` runs both beside the API unless told not to; `propdesk scheduler` runs both
without the API, and `propdesk dispatcher` only the dispatcher. The clock may run in several
processes (the runner's advisory lock and job_run ledger run each period once) and so may the
dispatcher (each pass claims its deliveries and notifications FOR UPDATE SKIP LOCKED).
"""
from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import make_engine, make_sessionmaker, resolve_database_url

# Every table, not just the dispatcher's: flushing an owner notification resolves its foreign keys
# (owner, unit) through the metadata. A process running only the dispatcher imported no registry
# model, so each pass failed after sending, rolled back, and sent the same messages again.
from app.domain import models as _models  # noqa: F401
from app.domain.events import egress

log = logging.getLogger("propdesk.background")


@asynccontextmanager
async def roles(sessionmaker: async_sessionmaker[AsyncSession], *, settings: Settings, clock: bool,
                dispatch: bool) -> AsyncIterator[None]:
    """Run the chosen roles while the block runs; stop them (jobs get a grace period) after it."""
    from app.domain.events import dispatcher
    from app.domain.notifications.gateway import from_settings
    from app.jobs import clock as job_clock

    scheduler = await job_clock.start(sessionmaker, settings=settings) if clock else None
    stop = asyncio.Event()
    sending = None
    if dispatch:
        sending = asyncio.create_task(dispatcher.run_forever(sessionmaker, stop=stop, gateway=from_settings(settings),
                                                             interval=settings.dispatch_interval_seconds,
                                                             webhook_networks=egress.parse_networks(settings.webhook_allowed_networks)),
                                      name="dispatcher")
    try:
        yield
    finally:
        stop.set()
        if sending is not None:
            await sending
        await job_clock.stop(scheduler)


async def run_until_signalled(settings: Settings, *, clock: bool, dispatch: bool) -> None:
    """The scheduler and dispatcher commands: the roles on their own, until SIGTERM or Ctrl-C."""
    url = await resolve_database_url(settings.database_url, settings.data_dir)
    # The clock's runs and a dispatch pass each hold one connection at a time.
    engine = make_engine(url, pool_size=3)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with roles(make_sessionmaker(engine), settings=settings, clock=clock, dispatch=dispatch):
            log.info("running: %s", ", ".join(name for name, on in (("job clock", clock), ("dispatcher", dispatch)) if on))
            await stop.wait()
    finally:
        await engine.dispose()
