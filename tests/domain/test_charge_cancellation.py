"""A paid charge's cancel request, without the database: who approves, and only as asked."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.domain.fees.corrections.model import (
    CancellationDecisionNeedsReason,
    CancellationState,
    ChargeCancellation,
    ChargeChangedSinceRequest,
    OwnCancellationApproved,
)
from app.domain.fees.model import Charge

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
ASKER = uuid.uuid4()


def request() -> ChargeCancellation:
    return ChargeCancellation(amount_paid=Decimal("100.00"), requested_by=ASKER, reason="面积录错")


def charge(paid: str = "100.00", state: str = "open") -> Charge:
    return Charge(amount=Decimal("160.56"), amount_paid=Decimal(paid), amount_waived=Decimal("0.00"), state=state)


def test_approved_by_another_as_asked() -> None:
    row = request()
    row.approve(charge=charge(), paid_now=Decimal("100.00"), by=uuid.uuid4(), at=NOW)
    assert (row.status, row.decided_at) == (CancellationState.approved, NOW)


def test_never_by_the_asker() -> None:
    row = request()
    with pytest.raises(OwnCancellationApproved):
        row.approve(charge=charge(), paid_now=Decimal("100.00"), by=ASKER, at=NOW)
    assert row.status == CancellationState.requested


@pytest.mark.parametrize(("paid_now", "state"), [("120.00", "open"), ("0.00", "open"), ("100.00", "cancelled")])
def test_not_when_the_charge_changed(paid_now: str, state: str) -> None:
    row = request()
    with pytest.raises(ChargeChangedSinceRequest):
        row.approve(charge=charge(paid_now, state), paid_now=Decimal(paid_now), by=uuid.uuid4(), at=NOW)
    assert row.status == CancellationState.requested


def test_reject_and_withdraw_say_why() -> None:
    for verb in ("reject", "withdraw"):
        row = request()
        with pytest.raises(CancellationDecisionNeedsReason):
            getattr(row, verb)(by=ASKER, at=NOW, reason="  ")
        getattr(row, verb)(by=ASKER, at=NOW, reason="金额无误")
        assert row.status == (CancellationState.rejected if verb == "reject" else CancellationState.withdrawn)
