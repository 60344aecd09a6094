"""The receipt-prints migration carries the prints the old GET …/pdf recorded in the audit trail over as prints."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app import migrations
from app.db import with_database
from tests import db
from tests.factories import make_estate, make_staff
from tests.fees_factories import make_receipt
from tests.registry_factories import make_building, make_unit

REVISION = "4f0c2a9e7b13"


@pytest.fixture
async def empty_url(pg_server: str) -> AsyncIterator[str]:
    name = f"pd_mig_{uuid.uuid4().hex[:12]}"
    await db.admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    yield with_database(pg_server, name)
    await db.drop(pg_server, name)


async def test_old_print_entries_become_numbered_prints(empty_url):
    await migrations.upgrade_async(empty_url)
    engine = create_async_engine(empty_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            estate = await make_estate(session)
            cashier = await make_staff(session, estates=[estate], full_name="李娜")
            unit = await make_unit(session, building=await make_building(session, estate=estate))
            receipt = await make_receipt(session, estate=estate, unit=unit, cashier=cashier.user, amount="10.00")
        await asyncio.to_thread(migrations.downgrade, empty_url, f"{REVISION}-1")
        async with engine.begin() as conn:
            for minute in (3, 1, 2):  # written out of order; numbered by time
                await conn.execute(text(
                    "INSERT INTO audit_entry (at, estate_id, actor_id, actor_label, action, entity, entity_id) "
                    "VALUES (:at, :estate, :actor, '李娜', 'receipt.print', 'receipt', :rid)"),
                    {"at": datetime(2026, 12, 1, 9, minute, tzinfo=UTC), "estate": estate.id, "actor": cashier.id,
                     "rid": str(receipt.id)})
        await migrations.upgrade_async(empty_url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT number, extract(minute FROM printed_at)::int, printed_by, printed_by_name, reason "
                "FROM receipt_print ORDER BY number"))).all()
            copies = (await conn.execute(text("SELECT receipt_copies, receipt_note FROM estate"))).one()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 1, cashier.id, "李娜", ""), (2, 2, cashier.id, "李娜", "补打（旧记录）"),
                                        (3, 3, cashier.id, "李娜", "补打（旧记录）")]
    assert tuple(copies) == (["存根联", "交款人联", "记账联"], "")
