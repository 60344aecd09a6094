"""Test databases: one server per run, a template per run, one database per worker emptied before each test."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import async_url, start_embedded, with_database
from app.domain.models import metadata

ROOT = Path(__file__).resolve().parent.parent


def server_url() -> str:
    """TEST_DATABASE_URL's server, or an embedded server under .test-data/."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        return async_url(given)
    return start_embedded(ROOT / ".test-data")


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def admin_execute(server: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn(with_database(server, "postgres")))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def make_disposable(server: str) -> None:
    """The embedded test server holds nothing worth a crash: skip the disk flushes.

    Cloning a database per test forces a checkpoint; without fsync it costs a third.
    Only for the server under .test-data, never for TEST_DATABASE_URL's.
    """
    if os.environ.get("TEST_DATABASE_URL"):
        return
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        await admin_execute(server, f"ALTER SYSTEM SET {setting} = off")
    await admin_execute(server, "SELECT pg_reload_conf()")


async def create_template(server: str) -> str:
    """A database with the current models' schema, copied for every test."""
    name = f"pd_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await admin_execute(server, f'CREATE DATABASE "{name}"')
    engine = create_async_engine(with_database(server, name))
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    return name


async def clone(server: str, template: str) -> str:
    name = f"pd_t_{uuid.uuid4().hex[:12]}"
    await admin_execute(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return name


_WIPE: dict[str, str] = {}


async def wipe(server: str, name: str) -> bool:
    """Empty every table of a database: about 10 ms, where a fresh copy costs 300 ms or more.

    With triggers off for the session (session_replication_role), so neither foreign keys nor
    the audit trail's append-only trigger stand in the way. That needs a superuser, which the
    embedded server's is; False where it is not, and the caller copies the template instead.
    """
    conn = await asyncpg.connect(dsn(with_database(server, name)))
    try:
        if name not in _WIPE:
            tables = await conn.fetch("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'")
            _WIPE[name] = "".join(f"DELETE FROM {t[0]};" for t in tables)
        await conn.execute(f"SET session_replication_role = replica; {_WIPE[name]} RESET session_replication_role;")
        return True
    except asyncpg.InsufficientPrivilegeError:
        return False
    finally:
        await conn.close()


async def drop(server: str, name: str) -> None:
    await admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
