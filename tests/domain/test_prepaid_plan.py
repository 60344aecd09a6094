"""Which open charges a prepaid account settles, and how much of each (no database)."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from app.domain.fees.model import Charge, ChargeSource
from app.domain.fees.prepaid.deductions import plan
from app.domain.fees.prepaid.model import NO_EARMARK, AccountRefund, OwnRefundApproved, RefundState

FEE, WATER = uuid.uuid4(), uuid.uuid4()


def charge(item: uuid.UUID, amount: str, paid: str = "0.00") -> Charge:
    return Charge(estate_id=uuid.uuid4(), unit_id=uuid.uuid4(), fee_item_id=item, description="", amount=Decimal(amount),
                  amount_paid=Decimal(paid), due_date=date(2026, 1, 1), source=ChargeSource.billing)


def test_earmarked_money_first_then_free_money_in_charge_order():
    fee, water = charge(FEE, "160.56", paid="60.56"), charge(WATER, "42.00")
    parts = plan([fee, water], {NO_EARMARK: Decimal("120.00"), WATER: Decimal("30.00")})
    # fee owes 100.00, all free; water 42.00: 30.00 earmarked, then 12.00 of the 20.00 free left.
    assert [(p.charge is fee, p.earmark, p.amount) for p in parts] == [
        (True, None, Decimal("100.00")), (False, WATER, Decimal("30.00")), (False, None, Decimal("12.00"))]


def test_earmark_of_another_item_settles_nothing():
    assert plan([charge(FEE, "10.00")], {WATER: Decimal("99.00")}) == []


def test_the_requester_may_not_decide():
    me = uuid.uuid4()
    row = AccountRefund(estate_id=uuid.uuid4(), unit_id=uuid.uuid4(), amount=Decimal("600.00"), method="cash", reason="x",
                        requested_by=me, requested_at=None)  # type: ignore[arg-type]
    with pytest.raises(OwnRefundApproved):
        row.approve(by=me, reason="ok", at=None)  # type: ignore[arg-type]
    assert row.status == RefundState.requested
