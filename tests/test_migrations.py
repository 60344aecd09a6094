"""Alembic: upgrade from empty equals the models, downgrade to base leaves nothing, /readyz knows."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app import migrations
from app.config import Settings
from app.db import with_database
from app.domain.models import metadata
from app.main import create_app
from tests import db


def _include(obj, name, type_, reflected, compare_to) -> bool:
    # APScheduler's job store manages its own table; it is not ours to migrate.
    return not (type_ == "table" and name == "apscheduler_jobs")


def _diff(sync_conn) -> list:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True, "include_object": _include})
    return compare_metadata(context, metadata)


@pytest.fixture
async def empty_url(pg_server: str) -> AsyncIterator[str]:
    name = f"pd_mig_{uuid.uuid4().hex[:12]}"
    await db.admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    yield with_database(pg_server, name)
    await db.drop(pg_server, name)


async def _scalar(url: str, sql: str):
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


async def _tables(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' ORDER BY 1"))
            return list(rows.scalars())
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_matches_the_models(empty_url):
    await migrations.upgrade_async(empty_url)
    engine = create_async_engine(empty_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
            revision = await migrations.current_revision(conn)
    finally:
        await engine.dispose()
    assert revision == migrations.head_revision()
    assert diff == [], "the models differ from alembic head; regenerate the migration:\n" + "\n".join(map(str, diff))


async def test_downgrade_to_base_leaves_nothing_and_upgrade_works_again(empty_url):
    await migrations.upgrade_async(empty_url)
    assert set(await _tables(empty_url)) >= {t.name for t in metadata.sorted_tables}
    await asyncio.to_thread(migrations.downgrade, empty_url, "base")
    assert await _tables(empty_url) == []
    assert await _scalar(empty_url, "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                                    "WHERE n.nspname = 'public' AND t.typtype = 'e'") == 0
    await migrations.upgrade_async(empty_url)
    assert set(await _tables(empty_url)) >= {t.name for t in metadata.sorted_tables}


async def test_migrated_audit_trail_is_append_only(empty_url):
    """create_all installs the trigger through a DDL event; a migration must install it too."""
    await migrations.upgrade_async(empty_url)
    engine = create_async_engine(empty_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO audit_entry (at, actor_label, action, entity, entity_id) "
                                    "VALUES (now(), 'x', 'create', 'unit', '1')"))
        for sql in ("UPDATE audit_entry SET action = 'tampered'", "DELETE FROM audit_entry"):
            async with engine.begin() as conn:
                with pytest.raises(Exception, match="append-only"):
                    await conn.execute(text(sql))
    finally:
        await engine.dispose()
    await asyncio.to_thread(migrations.downgrade, empty_url, "base")
    assert await _scalar(empty_url, "SELECT count(*) FROM pg_proc WHERE proname = 'audit_entry_append_only'") == 0


async def test_readyz_is_200_on_a_migrated_database(empty_url, tmp_path):
    await migrations.upgrade_async(empty_url)
    app = create_app(Settings(database_url=empty_url, data_dir=tmp_path, scheduler_enabled=False, log_json=False))
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == migrations.head_revision()


async def test_readyz_is_503_when_migrations_are_pending(client):
    # The test template is built with create_all: tables, but no alembic_version.
    r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "/problems/migrations-pending"
    assert (await client.get("/healthz")).status_code == 200
