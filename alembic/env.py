"""Async Alembic environment. Migrations run under an advisory lock so that several
processes starting at once migrate once."""
from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import async_url, engine_args
from app.domain.models import metadata

config = context.config
MIGRATION_LOCK = 7_303_001  # arbitrary, fixed: the advisory lock key for migrations


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("PROPDESK_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set PROPDESK_DATABASE_URL or use `propdesk migrate`")
    return async_url(url)


def _include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    return not (type_ == "table" and name == "apscheduler_jobs")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_object=_include_object,
        transaction_per_migration=False,
    )
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url, connect_args = engine_args(_url())
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
