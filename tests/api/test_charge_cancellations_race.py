"""Approving a paid charge's cancel while the desk takes a payment for the same unit, many rounds.

Each request runs in its own session and connection, really concurrently. Whichever PostgreSQL
lets through first: no money is both on a charge and on the account, every live allocation is
on an open charge, and every yuan paid in is on a charge or on the account.
"""
from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.domain.fees.model import Charge, ChargeState, FeeItem
from app.domain.fees.payments.model import Allocation, Payment, PaymentMethod
from app.domain.fees.prepaid.model import AccountBalance, AccountEntry
from tests.fees_factories import make_charge
from tests.helpers.cancellations import ask, decide, paid_desk
from tests.helpers.payments import pay

ROUNDS = 6


async def _one(session, stmt) -> Decimal:
    return Decimal((await session.execute(stmt)).scalar_one() or 0)


async def _check(session, unit_id) -> None:
    per_charge = (await session.execute(
        select(Charge.id, Charge.state, Charge.amount_paid, func.coalesce(func.sum(Allocation.amount), 0))
        .outerjoin(Allocation, (Allocation.charge_id == Charge.id) & Allocation.reversed_at.is_(None))
        .where(Charge.unit_id == unit_id).group_by(Charge.id))).all()
    for charge_id, state, amount_paid, allocated in per_charge:
        assert Decimal(allocated) == amount_paid, (charge_id, amount_paid, allocated)
        assert state == ChargeState.open.value or amount_paid == 0, (charge_id, state, amount_paid)
    paid_in = await _one(session, select(func.sum(Payment.amount)).where(Payment.method != PaymentMethod.account.value))
    settled = await _one(session, select(func.sum(Charge.amount_paid)))
    balance = await _one(session, select(func.sum(AccountBalance.balance)))
    assert paid_in == settled + balance, (paid_in, settled, balance)
    assert await _one(session, select(func.sum(AccountEntry.amount))) == balance


async def test_approve_and_desk_payment_at_once_never_both(client, session):
    d, finance, supervisor = await paid_desk(session)
    item_id = d.charges[0].fee_item_id
    item = await session.get(FeeItem, item_id)
    orders = {"approved_first": 0, "paid_first": 0}
    for n in range(ROUNDS):
        charge = await make_charge(session, unit=d.unit, item=item, amount="100.00", period=f"{2010 + n}-01",
                                   due_date=date(2010 + n, 1, 1))
        assert (await pay(client, d, amount="40.00", charge_ids=[str(charge.id)])).status_code == 201
        asked = await ask(client, charge.id, finance)
        assert asked.status_code == 202, asked.text
        approved, paid = await asyncio.gather(decide(client, asked.json()["id"], "approve", supervisor),
                                              pay(client, d, amount="30.00", charge_ids=[str(charge.id)]))
        if approved.status_code == 200:
            # The payment waited and found the charge cancelled: refused, nothing taken.
            assert paid.status_code == 409, paid.text
            orders["approved_first"] += 1
        else:
            assert approved.status_code == 409 and paid.status_code == 201, (approved.text, paid.text)
            assert approved.json()["type"].endswith("charge-changed-since-request")
            orders["paid_first"] += 1
        await _check(session, d.unit.id)
    assert sum(orders.values()) == ROUNDS, orders
