"""The demo's shared water meter: split by area over one building, approved by someone other than
its recorder, and billed as charges that add up to each month's total."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.fees.model import Charge, ChargeSource
from app.domain.fees.shared_meters.model import SharedMeter, SharedMeterSplit, SharedMeterSplitLine, SplitStatus


@pytest.mark.demo
@pytest.mark.demo_loaded_only  # an old release had no shared meters
async def test_demo_shared_meter_is_split_approved_and_billed(session):
    meter = (await session.execute(select(SharedMeter))).scalar_one()
    assert (meter.method, meter.subtract_unit_meters, meter.building_id is not None) == ("area", True, True)
    found = list((await session.execute(select(SharedMeterSplit).order_by(SharedMeterSplit.period))).scalars())
    assert 2 <= len(found) <= 3
    lines: dict = defaultdict(list)
    for line in (await session.execute(select(SharedMeterSplitLine))).scalars():
        lines[line.split_id].append(line)
    charges = {c.source_id: c for c in (await session.execute(
        select(Charge).where(Charge.source == ChargeSource.shared_meter.value))).scalars()}
    for split in found:
        assert split.approved_by != split.recorded_by
        assert sum((ln.amount for ln in lines[split.id]), Decimal("0.00")) == split.total
        if split.status == SplitStatus.billed.value:
            billed = [charges[ln.id] for ln in lines[split.id] if ln.amount > 0]
            assert sum(c.amount for c in billed) == split.total
            assert all(c.basis["method"] == "area" and c.period == split.period for c in billed)
    assert any(s.status == SplitStatus.billed.value for s in found)
