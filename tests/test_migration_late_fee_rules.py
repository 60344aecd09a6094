"""The late-fee-rules migration turns fee items' late-fee settings into the estate's rule and back."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app import migrations
from app.db import with_database
from tests import db
from tests.factories import make_estate
from tests.fees_factories import make_fee_item

REVISION = "7a1c4e2b9d30"


@pytest.fixture
async def empty_url(pg_server: str) -> AsyncIterator[str]:
    name = f"pd_mig_{uuid.uuid4().hex[:12]}"
    await db.admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    yield with_database(pg_server, name)
    await db.drop(pg_server, name)


async def test_item_settings_become_one_rule_per_estate_and_go_back(empty_url):
    await migrations.upgrade_async(empty_url)
    engine = create_async_engine(empty_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            estate = await make_estate(session)
            mgmt = await make_fee_item(session, estate=estate, code="a-mgmt")
            parking = await make_fee_item(session, estate=estate, code="b-parking")
            odd = await make_fee_item(session, estate=estate, code="c-odd")
            await make_fee_item(session, estate=estate, code="d-none")
        await asyncio.to_thread(migrations.downgrade, empty_url, f"{REVISION}-1")
        async with engine.begin() as conn:
            for item, rate, grace, cap in ((mgmt, "0.0005", 10, "0.1"), (parking, "0.0005", 10, "0.1"), (odd, "0.001", 0, None)):
                await conn.execute(text("UPDATE fee_item SET late_fee_daily_rate = :r, late_fee_grace_days = :g, "
                                        "late_fee_cap_share = :c WHERE id = :id"),
                                   {"r": D(rate), "g": grace, "c": D(cap) if cap else None, "id": item.id})
        await migrations.upgrade_async(empty_url)
        async with engine.connect() as conn:
            rules = (await conn.execute(text(
                "SELECT estate_id, effective_from::text, daily_rate, grace_days, cap_share, fee_item_ids FROM late_fee_rule"))).all()
            columns = (await conn.execute(text("SELECT column_name FROM information_schema.columns "
                                               "WHERE table_name = 'fee_item' AND column_name LIKE 'late_fee%'"))).all()
        await asyncio.to_thread(migrations.downgrade, empty_url, f"{REVISION}-1")
        async with engine.connect() as conn:
            back = dict((await conn.execute(text("SELECT code, late_fee_daily_rate FROM fee_item"))).all())
    finally:
        await engine.dispose()
    # The setting most items share wins; the odd item's own rate cannot be a second rule of the same day.
    assert [tuple(r) for r in rules] == [(estate.id, "2000-01-01", D("0.000500"), 10, D("0.1000"), [mgmt.id, parking.id])]
    assert columns == []
    assert back == {"a-mgmt": D("0.000500"), "b-parking": D("0.000500"), "c-odd": None, "d-none": None}
