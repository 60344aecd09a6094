"""The demo's move-out and correction: a whole-month fee cancelled with its reason and billed again by days."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app import demo
from app.demo.fees_prorate import MOVE_OUT_DAY, move_out_and_correction
from app.domain.fees.billing import rules as billing
from app.domain.fees.model import Charge, ChargeState
from app.domain.fees.prorate.model import UnitBillingPeriod
from app.domain.registry.model import Estate


@pytest.mark.demo
@pytest.mark.demo_loaded_only  # rows only today's loader makes
async def test_each_estate_has_a_move_out_and_its_correction(session):
    assert move_out_and_correction in demo.STEPS
    estates = list((await session.execute(select(Estate))).scalars())
    for estate in estates:
        period = (await session.execute(select(UnitBillingPeriod).where(UnitBillingPeriod.estate_id == estate.id))).scalar_one()
        assert period.billed_to is not None and period.billed_to.day == MOVE_OUT_DAY
        cancelled = (await session.execute(select(Charge).where(
            Charge.unit_id == period.unit_id, Charge.state == ChargeState.cancelled.value))).scalar_one()
        assert "搬离" in (cancelled.cancel_reason or "") and cancelled.amount_paid == 0
        new = (await session.execute(select(Charge).where(Charge.replaces_id == cancelled.id))).scalar_one()
        days, length = new.basis["days"], new.basis["days_in_month"]
        assert days == MOVE_OUT_DAY and (new.period, new.state) == (cancelled.period, ChargeState.open)
        # rate × area × days / length, rounded once (the unit is occupied: no vacant discount)
        assert new.amount == billing.prorate(price=Decimal(new.basis["rate"]), factor=Decimal(new.basis["area"]),
                                             days=days, days_in_month=length)
