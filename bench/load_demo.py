"""Prepare a benchmark database: migrate, then load the demo with its year of fees.

    PROPDESK_DATA_DIR=/tmp/bench-data .venv/bin/python bench/load_demo.py

`propdesk serve --demo` does the same once `app.demo.STEPS` includes `demo_fees.fee_history`;
this script also works before that, and creates any table the migrations do not have yet
(areas under development), so the benchmark never fails on a missing table. It loads into
an empty database only; it leaves the embedded server running for `propdesk serve` to use.
"""
from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import create_async_engine

from app import demo
from app.cli.common import _database, _migrate, _prepare, _settings
from app.db import session_scope
from app.demo.fees import fee_history
from app.domain.models import metadata


async def _missing_tables(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)  # checkfirst: only what is missing
    await engine.dispose()


async def _load() -> None:
    async with _database(_settings()) as sessionmaker, session_scope(sessionmaker) as session:
        if await demo.has_company(session):
            print("the database already has a company; nothing loaded")
            return
        steps = demo.STEPS if fee_history in demo.STEPS else [*demo.STEPS, fee_history]
        started = time.perf_counter()
        logins = await demo.load_demo(session, steps=steps)
    print(f"demo loaded in {time.perf_counter() - started:.1f} s: {logins.counts}")


def main() -> None:
    url = asyncio.run(_prepare(_settings()))
    _migrate(url)
    asyncio.run(_missing_tables(url))
    asyncio.run(_load())


if __name__ == "__main__":
    main()
