"""The billing_run job: 06:00 on the 1st in the estate's time zone, bills the month starting, once."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.fees.model import BillingRun, Charge
from app.jobs.registry import JOBS, InvalidPeriod
from app.jobs.runner import recent_fire_times, run_job
from tests.fees_factories import make_fee_item
from tests.registry_factories import count_rows, make_building, make_unit, two_estates


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_fires_on_the_first_at_six_local_and_bills_that_month():
    spec = JOBS["billing_run"]
    [last] = recent_fire_times(spec.trigger("Asia/Shanghai"), now=utc(2026, 11, 15), count=1)
    assert last.astimezone(UTC) == utc(2026, 10, 31, 22)  # 1 November 06:00 in Shanghai
    assert spec.period_of(datetime(2026, 11, 1, 6)) == "2026-11"


async def test_job_bills_the_month_once(app, session):
    estate, other = await two_estates(session)
    b = await make_building(session, estate=estate)
    for area in ("89.20", "112.70", "143.90"):
        await make_unit(session, building=b, area=area)
    await make_fee_item(session, estate=estate, price="1.80", effective_from=date(2026, 1, 1))
    sm = app.state.sessionmaker
    first_of_month = utc(2026, 10, 31, 22, 0)  # 06:00 local on 1 November
    [first] = await run_job(sm, "billing_run", estate_id=estate.id, now=first_of_month)
    [again] = await run_job(sm, "billing_run", estate_id=estate.id, now=first_of_month)
    assert (first.period, first.status, first.summary["created"], first.summary["total"]) == ("2026-11", "succeeded", 3, "622.44")
    assert (again.status, again.reason) == ("skipped", "already succeeded")
    # Forced, the run finds the month billed and creates nothing.
    [forced] = await run_job(sm, "billing_run", estate_id=estate.id, period="2026-11", force=True)
    assert (forced.status, forced.summary["created"]) == ("succeeded", 0)
    assert await count_rows(session, Charge) == 3 and await count_rows(session, BillingRun) == 1
    amounts = sorted((await session.execute(select(Charge.amount))).scalars())
    assert amounts == [Decimal("160.56"), Decimal("202.86"), Decimal("259.02")]
    run = (await session.execute(select(BillingRun))).scalar_one()
    assert (run.month, run.created_by, run.created_by_id) == ("2026-11", "billing_run", None)


async def test_a_bad_month_is_refused_without_writing(app, session):
    estate, _ = await two_estates(session)
    with pytest.raises(InvalidPeriod):
        await run_job(app.state.sessionmaker, "billing_run", estate_id=estate.id, period="2026-13")
    assert await count_rows(session, BillingRun) == 0
