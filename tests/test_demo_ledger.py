"""The demo's fee ledger holds together: prepaid accounts, their deductions, and posted late fees.

Each check is one that a report relies on: a balance is the sum of its entries, a deduction is a
payment of method `account` whose allocations are its entries and whose QS-K document carries its
total, and a late fee is a charge of its own on the charge paid late, within the rule's cap.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.domain.fees.late_fees.model import LateFeeRule
from app.domain.fees.model import Charge, ChargeSource, ChargeState
from app.domain.fees.payments.model import Allocation, Payment, PaymentMethod, Receipt, ReceiptSeries
from app.domain.fees.prepaid.model import NO_EARMARK, AccountBalance, AccountEntry, EntryKind
from app.domain.registry.model import Estate

ZERO = Decimal("0.00")
pytestmark = [pytest.mark.demo, pytest.mark.demo_loaded_only]  # rows an old release never wrote


async def _estates(session) -> list[Estate]:
    return list((await session.execute(select(Estate))).scalars())


async def test_every_balance_is_the_sum_of_its_entries_and_none_is_negative(session):
    entries = (await session.execute(
        select(AccountEntry.unit_id, AccountEntry.earmark_fee_item_id, func.sum(AccountEntry.amount))
        .group_by(AccountEntry.unit_id, AccountEntry.earmark_fee_item_id))).all()
    summed = {(unit, earmark or NO_EARMARK): total for unit, earmark, total in entries}
    balances = {(b.unit_id, b.earmark_key): b.balance for b in (await session.execute(select(AccountBalance))).scalars()}
    assert {k: v for k, v in balances.items() if v} == {k: v for k, v in summed.items() if v}
    assert all(v >= ZERO for v in balances.values())
    for estate in await _estates(session):
        kinds = set((await session.execute(select(AccountEntry.kind).where(AccountEntry.estate_id == estate.id))).scalars())
        # The demo shows every kind a desk meets: money paid in, left over, deducted.
        assert {EntryKind.deposit, EntryKind.overpayment, EntryKind.deduction} <= kinds, estate.code
        earmarked = (await session.execute(select(func.count()).select_from(AccountEntry).where(
            AccountEntry.estate_id == estate.id, AccountEntry.kind == EntryKind.deposit.value,
            AccountEntry.earmark_fee_item_id.is_not(None)))).scalar_one()
        assert earmarked >= 1, estate.code


async def test_each_deduction_is_its_entries_allocations_and_document(session):
    payments = list((await session.execute(select(Payment).where(Payment.method == PaymentMethod.account.value))).scalars())
    assert payments
    allocated: dict = defaultdict(dict)
    for a in (await session.execute(select(Allocation).join(Payment, Payment.id == Allocation.payment_id).where(
            Payment.method == PaymentMethod.account.value, Allocation.reversed_at.is_(None)))).scalars():
        # One line per charge on the document, however many earmarks met it.
        assert a.charge_id not in allocated[a.payment_id], a.payment_id
        allocated[a.payment_id][a.charge_id] = a.amount
    deducted: dict = defaultdict(lambda: defaultdict(lambda: ZERO))
    for e in (await session.execute(select(AccountEntry).where(AccountEntry.kind == EntryKind.deduction.value))).scalars():
        deducted[e.payment_id][e.charge_id] -= e.amount
    documents = {r.payment_id: r for r in (await session.execute(
        select(Receipt).where(Receipt.series == ReceiptSeries.account.value))).scalars()}
    for p in payments:
        assert dict(deducted[p.id]) == allocated[p.id], p.id
        assert sum(allocated[p.id].values(), ZERO) == p.amount == documents[p.id].amount, p.id
        assert documents[p.id].number.startswith(documents[p.id].number.split("-")[0] + "-K-"), documents[p.id].number


async def test_late_fees_are_charges_on_the_charge_paid_late_within_the_cap(session):
    paid_late = aliased(Charge)
    for estate in await _estates(session):
        rule = (await session.execute(select(LateFeeRule).where(LateFeeRule.estate_id == estate.id)
                                      .order_by(LateFeeRule.effective_from.desc()))).scalars().first()
        assert rule is not None and rule.cap_share is not None, estate.code
        rows = (await session.execute(select(Charge, paid_late).join(paid_late, paid_late.id == Charge.late_fee_of).where(
            Charge.estate_id == estate.id, Charge.source == ChargeSource.late_fee.value,
            Charge.state == ChargeState.open.value))).all()
        assert rows, f"{estate.code}: the demo posts late fees"
        fees_of: dict = defaultdict(lambda: ZERO)
        for fee, charge in rows:
            assert (fee.unit_id, fee.fee_item_id, fee.period) == (charge.unit_id, charge.fee_item_id, None)
            assert charge.fee_item_id in rule.fee_item_ids
            fees_of[charge.id] += fee.amount
        for charge_id, total in fees_of.items():
            charge = next(c for _, c in rows if c.id == charge_id)
            assert total <= (charge.amount * rule.cap_share).quantize(Decimal("0.01")), charge_id
        assert any(fee.amount_paid > 0 for fee, _ in rows), f"{estate.code}: some late fee has been paid"
