"""The deduction job settles a late charge as the desk does: the accrued late fee is posted right
after the charge and settled with it, as far as the money goes."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.domain.fees.model import Charge, ChargeSource, FeeItem, FeeKind
from app.domain.fees.payments.model import Receipt
from tests.fees_factories import make_charge, make_fee_item, make_late_fee_rule
from tests.helpers.payments import API, Desk, charge_state, desk, pay
from tests.helpers.prepaid import account, deduct, deposit
from tests.registry_factories import count_rows

# 2026-11-10 10:00 in Shanghai.
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=True)


async def late_desk(session) -> Desk:
    """September's and October's management fee, 223.00 each, due on the 1st; 0.05% a day after
    10 days' grace, at most 5%. On 11-10: September 60 days -> 6.69, October 30 days -> 3.35."""
    d = await desk(session, amounts=())
    item = await make_fee_item(session, estate=d.estate, code="mgmt")
    await make_late_fee_rule(session, items=[item], daily_rate="0.0005", grace_days=10, cap_share="0.05")
    for month in (9, 10):
        d.charges.append(await make_charge(session, unit=d.unit, item=item, amount="223.00", period=f"2026-{month:02d}",
                                           due_date=date(2026, month, 1), description=f"2026年{month}月物业管理费"))
    return d


async def late_fees_of(session, d: Desk) -> list[Charge]:
    stmt = (select(Charge).where(Charge.unit_id == d.unit.id, Charge.source == ChargeSource.late_fee.value)
            .order_by(Charge.created_at).execution_options(populate_existing=True))
    return list((await session.execute(stmt)).scalars())


async def the_deduction(client, d: Desk) -> dict:
    r = await client.get(f"{API}/estates/{d.estate.id}/receipts?series=account", headers=d.staff.headers)
    [doc] = r.json()["items"]
    return doc


async def test_the_late_fees_are_posted_and_settled_on_the_deduction(app, client, session):
    d = await late_desk(session)
    assert (await deposit(client, d, amount="500.00")).status_code == 201
    # 223.00 + 6.69 + 223.00 + 3.35 = 456.04; 500.00 - 456.04 = 43.96 stays on account.
    assert await deduct(app, d, now=NOW) == {"units": 1, "total": "456.04"}
    sep_fee, oct_fee = await late_fees_of(session, d)
    assert [(f.late_fee_of, f.amount, f.amount_paid, f.due_date) for f in (sep_fee, oct_fee)] == [
        (d.charges[0].id, D("6.69"), D("6.69"), date(2026, 11, 10)), (d.charges[1].id, D("3.35"), D("3.35"), date(2026, 11, 10))]
    doc = await the_deduction(client, d)
    assert doc["amount"] == "456.04"
    # Each late fee right after its charge, as on a desk receipt.
    assert [(a["description"], a["amount"]) for a in doc["allocations"]] == [
        ("2026年9月物业管理费", "223.00"), ("2026年9月物业管理费滞纳金", "6.69"),
        ("2026年10月物业管理费", "223.00"), ("2026年10月物业管理费滞纳金", "3.35")]
    assert (await account(client, d))["balance"] == "43.96"
    # The desk the same day posts nothing more: all is paid, the payment is credit.
    r = await pay(client, d, amount="10.00")
    assert (r.status_code, r.json()["credit"]) == (201, "10.00")
    assert len(await late_fees_of(session, d)) == 2


async def test_short_money_leaves_the_next_late_fee_owed_as_the_desk_would(app, client, session):
    d = await late_desk(session)
    await deposit(client, d, amount="230.00")
    # 223.00 + 6.69 = 229.69 of September; 0.31 of October. October's late fee is posted (as a
    # desk payment oldest-first posts every overdue charge's) and owed.
    assert await deduct(app, d, now=NOW) == {"units": 1, "total": "230.00"}
    assert [await charge_state(session, c) for c in d.charges] == [("223.00", True), ("0.31", False)]
    sep_fee, oct_fee = await late_fees_of(session, d)
    assert [(f.amount, f.amount_paid) for f in (sep_fee, oct_fee)] == [(D("6.69"), D("6.69")), (D("3.35"), D("0.00"))]
    assert (await account(client, d))["balance"] == "0.00"


async def test_nothing_settled_nothing_posted(app, client, session):
    d = await late_desk(session)
    water = await make_fee_item(session, estate=d.estate, kind=FeeKind.metered, price="3.50", name="水费")
    await deposit(client, d, amount="100.00", earmarks=[{"fee_item_id": str(water.id), "amount": "100.00"}])
    assert await deduct(app, d, now=NOW) == {"units": 0, "total": "0.00"}
    assert await late_fees_of(session, d) == []
    assert await count_rows(session, Receipt, Receipt.series == "account") == 0


async def test_earmarked_money_of_the_item_pays_its_late_fee(app, client, session):
    d = await late_desk(session)
    item = await session.get_one(FeeItem, d.charges[0].fee_item_id)
    await deposit(client, d, amount="229.69", earmarks=[{"fee_item_id": str(item.id), "amount": "229.69"}])
    assert await deduct(app, d, now=NOW) == {"units": 1, "total": "229.69"}
    sep_fee, _ = await late_fees_of(session, d)
    assert (sep_fee.amount, sep_fee.amount_paid) == (D("6.69"), D("6.69"))


async def test_after_the_desk_posted_a_late_fee_the_job_posts_only_the_rest(app, client, session):
    d = await late_desk(session)
    # The desk pays October alone; its late fee 3.35 is posted and left owed.
    r = await pay(client, d, amount="223.00", charge_ids=[str(d.charges[1].id)])
    assert r.status_code == 201, r.text
    await deposit(client, d, amount="300.00")
    # September 223.00 + its late fee 6.69 (posted now) + October's late fee 3.35 = 233.04.
    assert await deduct(app, d, now=NOW) == {"units": 1, "total": "233.04"}
    fees = await late_fees_of(session, d)
    assert sorted((f.amount, f.amount_paid) for f in fees) == [(D("3.35"), D("3.35")), (D("6.69"), D("6.69"))]
    assert (await account(client, d))["balance"] == "66.96"
