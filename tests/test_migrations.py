"""Alembic: upgrade from empty equals the models, downgrade to base leaves nothing, /readyz knows."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app import migrations
from app.config import Settings
from app.db import with_database
from app.domain.models import metadata
from app.main import create_app
from tests import db

NUMBERS_REVISION = "6fc71d73ec07"  # readable numbers of requests and orders


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


_OLD_ROWS = """
INSERT INTO company (id, created_at, name) VALUES ('00000000-0000-0000-0000-0000000000c0', now(), '淇水物业');
INSERT INTO estate (id, created_at, name, office_name, code, time_zone, company_id, morning_open, morning_close,
                    afternoon_open, afternoon_close)
VALUES ('00000000-0000-0000-0000-0000000000e1', now(), '淇水春天', '淇水春天管理處', 'QS', 'Asia/Shanghai',
        '00000000-0000-0000-0000-0000000000c0', '08:00', '12:00', '14:00', '18:00'),
       ('00000000-0000-0000-0000-0000000000e2', now(), '火星', '火星管理處', 'HX', 'Mars/Base',
        '00000000-0000-0000-0000-0000000000c0', '08:00', '12:00', '14:00', '18:00');
INSERT INTO service_request (id, created_at, estate_id, kind, channel, urgency, category, description, is_public_area,
                             location, contact_name, contact_phone, status, closed_note)
SELECT ('00000000-0000-0000-0000-00000000010' || n)::uuid, at::timestamptz, ('00000000-0000-0000-0000-0000000000e' || e)::uuid,
       kind, 'phone', 'normal', 'plumbing', '漏水', true, '大堂', '', '', 'ordered', ''
FROM (VALUES (1, 1, '2026-01-02T02:00:00Z', 'repair'), (2, 1, '2025-12-31T16:30:00Z', 'repair'),
             (3, 1, '2025-12-31T15:30:00Z', 'repair'), (4, 1, '2025-12-31T16:40:00Z', 'enquiry'),
             (5, 2, '2025-12-31T16:30:00Z', 'repair')) AS v(n, e, at, kind);
INSERT INTO work_order (id, created_at, estate_id, request_id, status, category, is_public_area, cancel_reason,
                        reopen_count, last_reason)
SELECT ('00000000-0000-0000-0000-00000000020' || right(r.id::text, 1))::uuid, r.created_at, r.estate_id, r.id,
       'pending_dispatch', 'plumbing', true, '', 0, ''
FROM service_request r WHERE r.kind = 'repair';
INSERT INTO daily_repair_log (id, created_at, estate_id, day, compiled_at, rows)
VALUES (gen_random_uuid(), now(), '00000000-0000-0000-0000-0000000000e1', '2026-01-02', now(),
        '[{"work_order_id": "00000000-0000-0000-0000-000000000201", "category": "plumbing"},
          {"work_order_id": "00000000-0000-0000-0000-0000000002ff", "category": "gone"}]');
"""


async def test_upgrade_numbers_existing_requests_and_orders_by_local_year(empty_url):
    """Creation order per estate and year in the estate's zone; counters go on from there; logs get the numbers."""
    script = ScriptDirectory.from_config(migrations.alembic_config(empty_url))
    await migrations.upgrade_async(empty_url, script.get_revision(NUMBERS_REVISION).down_revision)
    engine = create_async_engine(empty_url)
    try:
        async with engine.begin() as conn:
            for statement in filter(str.strip, _OLD_ROWS.split(";")):
                await conn.execute(text(statement))
        await migrations.upgrade_async(empty_url, NUMBERS_REVISION)
        async with engine.connect() as conn:
            requests = dict((await conn.execute(text("SELECT right(id::text, 1), number FROM service_request"))).all())
            orders = dict((await conn.execute(text("SELECT right(id::text, 1), number FROM work_order"))).all())
            counters = set((await conn.execute(text(
                "SELECT e.code, c.series, c.year, c.last_seq FROM document_counter c JOIN estate e ON e.id = c.estate_id"))).all())
            log = (await conn.execute(text("SELECT rows FROM daily_repair_log"))).scalar_one()
    finally:
        await engine.dispose()
    # 15:30 UTC on 31 December is 23:30 in Shanghai: still 2025; 16:30 UTC is past midnight there.
    assert requests == {"3": "QS-BX-2025-000001", "2": "QS-BX-2026-000001", "4": "QS-BX-2026-000002",
                        "1": "QS-BX-2026-000003", "5": "HX-BX-2026-000001"}
    assert orders == {"3": "QS-WX-2025-000001", "2": "QS-WX-2026-000001", "1": "QS-WX-2026-000002",
                      "5": "HX-WX-2026-000001"}  # an unknown zone counts in the default zone (Shanghai)
    assert counters == {("QS", "service_request", 2025, 1), ("QS", "service_request", 2026, 3),
                        ("QS", "work_order", 2025, 1), ("QS", "work_order", 2026, 2),
                        ("HX", "service_request", 2026, 1), ("HX", "work_order", 2026, 1)}
    assert [(r.get("number"), r.get("request_number"), r["category"]) for r in log] == [
        ("QS-WX-2026-000002", "QS-BX-2026-000003", "plumbing"), (None, None, "gone")]
