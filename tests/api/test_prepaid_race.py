"""The deduction job and a desk payment for the same unit at the same moment, many rounds.

Each runs in its own session and connection, really concurrently. Whatever order PostgreSQL
lets them through in: no charge is settled beyond its amount or twice, every balance stays at
or above zero and equals its entries, and every yuan paid in is either on a charge or on account.
"""
from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.domain.fees.model import Charge, ChargeSource
from app.domain.fees.payments.model import Allocation, Payment, PaymentMethod
from app.domain.fees.prepaid.model import NO_EARMARK, AccountBalance, AccountEntry
from tests.fees_factories import make_charge, make_fee_item, make_late_fee_rule
from tests.helpers.payments import desk, pay
from tests.helpers.prepaid import deduct, deposit

ROUNDS = 8


async def _sums(session) -> dict[str, Decimal]:
    async def one(stmt) -> Decimal:
        return Decimal((await session.execute(stmt)).scalar_one() or 0)

    return {
        "paid_in": await one(select(func.sum(Payment.amount)).where(Payment.method != PaymentMethod.account.value)),
        "settled": await one(select(func.sum(Charge.amount_paid))),
        "allocated": await one(select(func.sum(Allocation.amount)).where(Allocation.reversed_at.is_(None))),
        "deducted": await one(select(func.sum(Payment.amount)).where(Payment.method == PaymentMethod.account.value)),
        "entries": await one(select(func.sum(AccountEntry.amount))),
        "balance": await one(select(func.sum(AccountBalance.balance))),
    }


async def test_deduction_and_desk_payment_at_once_never_settle_twice(app, client, session):
    d = await desk(session, amounts=())
    item = await make_fee_item(session, estate=d.estate)
    orders = {"deduction_first": 0, "payment_first": 0}
    unit_id = d.unit.id
    for n in range(ROUNDS):
        for month in (1, 2):
            await make_charge(session, unit=d.unit, item=item, amount="100.00", period=f"{2010 + n}-{month:02d}",
                              due_date=date(2010 + n, month, 1))
        assert (await deposit(client, d, amount="150.00")).status_code == 201
        job, paid = await asyncio.gather(deduct(app, d), pay(client, d, amount="120.00"))
        assert paid.status_code == 201, paid.text
        # The payment saw what the deduction left (credit 120.00 - 50.00 = 70.00) or went first (no credit).
        orders["deduction_first" if Decimal(paid.json()["credit"]) > 0 else "payment_first"] += 1

        per_charge = (await session.execute(
            select(Charge.id, Charge.amount, Charge.amount_paid, func.coalesce(func.sum(Allocation.amount), 0))
            .outerjoin(Allocation, (Allocation.charge_id == Charge.id) & Allocation.reversed_at.is_(None))
            .where(Charge.unit_id == unit_id).group_by(Charge.id))).all()
        for charge_id, amount, amount_paid, allocated in per_charge:
            assert amount_paid <= amount and Decimal(allocated) == amount_paid, (n, charge_id, amount, amount_paid, allocated)
        balances = (await session.execute(select(AccountBalance.earmark_key, AccountBalance.balance))).all()
        assert all(b >= 0 for _, b in balances) and [k for k, _ in balances] == [NO_EARMARK], balances
        s = await _sums(session)
        # Money is conserved: what came in is on a charge or on account, and the account is its entries.
        assert s["paid_in"] == s["settled"] + s["balance"], (n, s)
        assert s["entries"] == s["balance"] and s["allocated"] == s["settled"], (n, s)
    # Rounds: deposits 8 × 150.00 + payments 8 × 120.00 = 2160.00 in; charges 8 × 200.00 = 1600.00 owed, all settled.
    s = await _sums(session)
    assert (s["paid_in"], s["settled"], s["balance"]) == (Decimal("2160.00"), Decimal("1600.00"), Decimal("560.00"))
    assert sum(orders.values()) == ROUNDS


async def _no_charge_twice_no_late_fee_twice(session, unit_id) -> None:
    per_charge = (await session.execute(
        select(Charge.id, Charge.amount, Charge.amount_paid, func.coalesce(func.sum(Allocation.amount), 0))
        .outerjoin(Allocation, (Allocation.charge_id == Charge.id) & Allocation.reversed_at.is_(None))
        .where(Charge.unit_id == unit_id).group_by(Charge.id))).all()
    for charge_id, amount, amount_paid, allocated in per_charge:
        assert amount_paid <= amount and Decimal(allocated) == amount_paid, (charge_id, amount, amount_paid, allocated)
    # Both post the day's late fee of a charge they lock; the second sees the first's and posts none.
    fees = (await session.execute(select(Charge.late_fee_of, func.count(), func.sum(Charge.amount))
                                  .where(Charge.unit_id == unit_id, Charge.source == ChargeSource.late_fee.value)
                                  .group_by(Charge.late_fee_of))).all()
    assert all((n, total) == (1, Decimal("5.00")) for _, n, total in fees), fees


async def test_with_late_fees_the_deduction_and_the_desk_post_and_settle_each_once(app, client, session):
    """Charges long overdue under a late-fee rule (capped at 5%: 5.00 on each 100.00): the job
    and the desk both post late fees before settling, at once, for the same unit."""
    d = await desk(session, amounts=())
    item = await make_fee_item(session, estate=d.estate)
    await make_late_fee_rule(session, items=[item], daily_rate="0.0005", cap_share="0.05")
    unit_id = d.unit.id
    for n in range(ROUNDS):
        for month in (1, 2):
            await make_charge(session, unit=d.unit, item=item, amount="100.00", period=f"{2010 + n}-{month:02d}",
                              due_date=date(2010 + n, month, 1))
        assert (await deposit(client, d, amount="150.00")).status_code == 201
        _, paid = await asyncio.gather(deduct(app, d), pay(client, d, amount="120.00"))
        assert paid.status_code == 201, paid.text
        await _no_charge_twice_no_late_fee_twice(session, unit_id)
        balances = (await session.execute(select(AccountBalance.balance))).scalars().all()
        assert all(b >= 0 for b in balances), balances
        s = await _sums(session)
        assert s["paid_in"] == s["settled"] + s["balance"], (n, s)
        assert s["entries"] == s["balance"] and s["allocated"] == s["settled"], (n, s)
    # A late fee the one posted while the other waited may be left for the next run; after it,
    # everything is settled: 2160.00 in, 8 × (200.00 + 2 × 5.00) = 1680.00 owed, 480.00 on account.
    await deduct(app, d)
    s = await _sums(session)
    assert (s["paid_in"], s["settled"], s["balance"]) == (Decimal("2160.00"), Decimal("1680.00"), Decimal("480.00"))
    assert await session.scalar(select(func.count()).select_from(Charge).where(Charge.unit_id == unit_id, Charge.is_open())) == 0
