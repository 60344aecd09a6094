"""The demo's year of fees: twelve billing runs, payments whose receipts, allocations, charges and
cashier days agree with each other as the services would have left them, arrears of every age,
and a live payment afterwards that continues the receipt numbers."""
from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import demo
from app.demo.fees import fee_history
from app.domain.auth.model import User
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.fees.billing import rules as billing
from app.domain.fees.cash import service as cash
from app.domain.fees.cash.model import CashierSession, SessionStatus
from app.domain.fees.model import BillingRun, Charge, ChargeSource, FeeItem, FeePrice, MeterReading
from app.domain.fees.payments.model import (
    Allocation,
    DocumentCounter,
    Payment,
    Receipt,
    ReceiptSeries,
    ReceiptStatus,
    Refund,
    format_number,
)
from app.domain.registry.model import Estate

ZERO = Decimal("0.00")


async def _load(session) -> list[Estate]:
    assert fee_history in demo.STEPS
    return list((await session.execute(select(Estate).order_by(Estate.code))).scalars())


def _today(estate: Estate):
    return utcnow().astimezone(ZoneInfo(estate.time_zone)).date()


def _bucket(days: int) -> str:
    return "0-30" if days <= 30 else "31-90" if days <= 90 else "91-365" if days <= 365 else ">365"


@pytest.mark.demo
async def test_a_year_is_billed_with_arrears_of_every_age(session):
    estates = await _load(session)
    for estate in estates:
        today = _today(estate)
        months = list((await session.execute(select(BillingRun.month).where(
            BillingRun.estate_id == estate.id).order_by(BillingRun.month))).scalars())
        assert len(months) == 12 and months[-1] == estate_time.month_key(today)
        assert months == sorted(set(months))
        mgmt = (await session.execute(select(FeeItem).where(FeeItem.estate_id == estate.id, FeeItem.code == "mgmt"))).scalar_one()
        prices = (await session.execute(select(FeePrice.effective_from, FeePrice.unit_price).where(
            FeePrice.fee_item_id == mgmt.id).order_by(FeePrice.effective_from))).all()
        assert len(prices) == 2 and prices[1][1] > prices[0][1]
        # Late fees (posted when a prepaid account settles a late charge) have no period or rate.
        rates = dict((await session.execute(select(Charge.period, func.min(Charge.basis["rate"].astext)).where(
            Charge.fee_item_id == mgmt.id, Charge.source != ChargeSource.late_fee.value).group_by(Charge.period))).all())
        changed = estate_time.month_key(prices[1][0])
        assert {r for m, r in rates.items() if m < changed} == {billing.show_rate(prices[0][1])}
        assert {r for m, r in rates.items() if m >= changed} == {billing.show_rate(prices[1][1])}
        readings = (await session.execute(select(func.count()).select_from(MeterReading).where(
            MeterReading.estate_id == estate.id, MeterReading.charge_id.is_not(None)))).scalar_one()
        assert readings > 300
        open_ = (await session.execute(select(Charge.due_date, Charge.amount - Charge.amount_paid).where(
            Charge.estate_id == estate.id, Charge.amount_paid < Charge.amount))).all()
        buckets: dict[str, Decimal] = defaultdict(Decimal)
        for due, outstanding in open_:
            assert due <= today
            buckets[_bucket((today - due).days)] += outstanding
        assert set(buckets) == {"0-30", "31-90", "91-365", ">365"}, buckets
        assert all(v > 0 for v in buckets.values())


async def _check_numbers(session, estate: Estate) -> None:
    rows = (await session.execute(select(Receipt.series, Receipt.year, Receipt.seq, Receipt.number).where(
        Receipt.estate_id == estate.id).order_by(Receipt.issued_at, Receipt.seq))).all()
    by_series: dict[tuple[str, int], list[int]] = defaultdict(list)
    for series, year, seq, number in rows:
        assert number == format_number(estate_code=estate.code, series=ReceiptSeries(series), year=year, seq=seq)
        by_series[(series, year)].append(seq)
    counters = {(c.series, c.year): c.last_seq for c in (await session.execute(
        select(DocumentCounter).where(DocumentCounter.estate_id == estate.id,
                                      DocumentCounter.series.in_([s.value for s in ReceiptSeries])))).scalars()}
    for key, seqs in by_series.items():
        assert seqs == list(range(1, len(seqs) + 1)), key  # gapless, and in issue order
        assert counters[key] == len(seqs)
    assert set(counters) == set(by_series)
    assert any(series == ReceiptSeries.refund.value for series, _ in by_series)


async def _check_money(session, estate: Estate) -> None:
    allocated = dict((await session.execute(select(Allocation.payment_id, func.sum(Allocation.amount)).where(
        Allocation.estate_id == estate.id).group_by(Allocation.payment_id))).all())
    for payment in (await session.execute(select(Payment).where(Payment.estate_id == estate.id))).scalars():
        assert allocated.get(payment.id, ZERO) == payment.amount - payment.credit, payment.id
        assert payment.method == "cash" or payment.reference
    live = dict((await session.execute(select(Allocation.charge_id, func.sum(Allocation.amount)).where(
        Allocation.estate_id == estate.id, Allocation.reversed_at.is_(None)).group_by(Allocation.charge_id))).all())
    for charge in (await session.execute(select(Charge).where(Charge.estate_id == estate.id))).scalars():
        assert charge.amount_paid == live.get(charge.id, ZERO), charge.id
        # Settled in full (paid_at) is paid plus waived: a waiver may take off what a payment left.
        assert (charge.paid_at is not None) <= (charge.amount_paid + charge.amount_waived == charge.amount), charge.id
        assert (charge.amount_paid == charge.amount) <= (charge.paid_at is not None), charge.id
    mismatched = (await session.execute(
        select(func.count()).select_from(Allocation).join(Receipt, Receipt.payment_id == Allocation.payment_id).where(
            Allocation.estate_id == estate.id,
            (Allocation.reversed_at.is_not(None)) != (Receipt.status == ReceiptStatus.void.value)))).scalar_one()
    assert mismatched == 0
    voids = (await session.execute(select(Receipt.void_reason).where(
        Receipt.estate_id == estate.id, Receipt.status == ReceiptStatus.void.value))).scalars().all()
    assert voids and all(r.strip() for r in voids)
    assert (await session.execute(select(func.count()).select_from(Refund).where(Refund.estate_id == estate.id))).scalar_one() == 1


async def _check_sessions(session, estate: Estate) -> None:
    finance = (await session.execute(select(User).where(User.username == f"{estate.code.lower()}.finance"))).scalar_one()
    rows = list((await session.execute(select(CashierSession).where(CashierSession.estate_id == estate.id))).scalars())
    today = _today(estate)
    past = [r for r in rows if r.day < today]
    assert len(past) > 150 and all(r.status == SessionStatus.acknowledged.value and r.acknowledged_by == finance.id
                                   and r.handed_over_at < r.acknowledged_at for r in past)
    assert [r.status for r in rows if r.day == today] == [SessionStatus.open.value]
    assert 1 <= sum(1 for r in past if r.difference) <= 2 and all(r.note for r in past if r.difference)
    totals = await cash.live_totals(session, [r.id for r in past])
    for row in past:  # what was fixed at hand-over is what the receipts add up to
        assert {m: Decimal(v) for m, v in row.expected.items()} == {m.value: v for m, v in totals[row.id].expected.items()}
        assert row.difference == row.counted_cash - Decimal(row.expected["cash"])
    received = (await session.execute(select(Payment.received_at).where(Payment.estate_id == estate.id))).scalars()
    local = [t.astimezone(ZoneInfo(estate.time_zone)) for t in received]
    assert all(t.weekday() < 5 and 8 <= t.hour < 17 for t in local if t.date() < today)


@pytest.mark.demo
async def test_payments_receipts_and_drawers_agree(session):
    for estate in await _load(session):
        await _check_numbers(session, estate)
        await _check_money(session, estate)
        await _check_sessions(session, estate)


@pytest.mark.demo
async def test_a_live_payment_continues_the_numbers(client, session):
    estates = await _load(session)
    qs = next(e for e in estates if e.code == "QS")
    year = _today(qs).year
    last = (await session.execute(select(DocumentCounter.last_seq).where(
        DocumentCounter.estate_id == qs.id, DocumentCounter.series == "receipt", DocumentCounter.year == year,
    ))).scalar_one_or_none() or 0
    unit_id = (await session.execute(select(Charge.unit_id).where(
        Charge.estate_id == qs.id, Charge.amount_paid < Charge.amount).order_by(Charge.due_date, Charge.id).limit(1))).scalar_one()
    login = await client.post("/api/v1/auth/login", json={"username": "qs.reception", "password": demo.DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}", "Idempotency-Key": str(uuid.uuid4())}
    r = await client.post(f"/api/v1/units/{unit_id}/payments", headers=headers,
                          json={"settle": "oldest_first", "amount": "50.00", "method": "cash", "tendered": "100.00"})
    assert r.status_code == 201, r.text
    receipt = r.json()["receipt"]
    assert receipt["number"] == format_number(estate_code="QS", series=ReceiptSeries.receipt, year=year, seq=last + 1)
    drawer = (await session.execute(select(CashierSession).where(
        CashierSession.estate_id == qs.id, CashierSession.day == _today(qs),
        CashierSession.status == SessionStatus.open.value))).scalar_one()
    assert receipt["cashier_session_id"] == str(drawer.id)  # the demo's open drawer of today
