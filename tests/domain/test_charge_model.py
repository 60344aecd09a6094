"""A charge's paid amount moves only by its verbs, which keep it and paid_at consistent."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.domain.fees.model import Charge, ChargeSource, PaymentOverCharge, ReversalOverPaid

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def charge(paid: str = "0.00") -> Charge:
    return Charge(id=uuid.uuid4(), estate_id=uuid.uuid4(), unit_id=uuid.uuid4(), fee_item_id=uuid.uuid4(),
                  description="2026年11月物业管理费", amount=Decimal("100.00"), amount_paid=Decimal(paid),
                  due_date=date(2026, 11, 1), source=ChargeSource.billing)


def test_a_part_payment_leaves_it_unpaid_the_rest_settles_it():
    row = charge()
    row.record_payment(amount=Decimal("40.00"), at=AT)
    assert (row.amount_paid, row.outstanding, row.paid_at) == (Decimal("40.00"), Decimal("60.00"), None)
    row.record_payment(amount=Decimal("60.00"), at=AT)
    assert (row.amount_paid, row.paid_at) == (Decimal("100.00"), AT)


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "100.01"])
def test_no_payment_beyond_the_outstanding_amount(amount):
    row = charge()
    with pytest.raises(PaymentOverCharge):
        row.record_payment(amount=Decimal(amount), at=AT)
    assert (row.amount_paid, row.paid_at) == (Decimal("0.00"), None)


def test_a_reversal_reopens_a_settled_charge():
    row = charge()
    row.record_payment(amount=Decimal("100.00"), at=AT)
    row.reverse_payment(amount=Decimal("30.00"))
    assert (row.amount_paid, row.paid_at) == (Decimal("70.00"), None)


def test_no_reversal_beyond_what_was_paid():
    row = charge(paid="20.00")
    with pytest.raises(ReversalOverPaid):
        row.reverse_payment(amount=Decimal("20.01"))
    assert row.amount_paid == Decimal("20.00")
