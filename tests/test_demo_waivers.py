"""The demo's waivers (减免): a vacant-unit rule applied to this month's management fee, and two
waivers asked for by the desk and approved by the supervisor, each moving its charge."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.fees.model import Charge
from app.domain.fees.waivers.model import DiscountRule, Waiver
from app.domain.registry.model import Estate, Unit


@pytest.mark.demo
@pytest.mark.demo_loaded_only  # rows an old release never wrote
async def test_a_vacant_rule_and_two_waivers_per_estate(session):
    for estate in (await session.execute(select(Estate))).scalars():
        rule = (await session.execute(select(DiscountRule).where(DiscountRule.estate_id == estate.id))).scalar_one()
        assert (rule.kind, rule.status, rule.reason) == ("vacant_unit", "approved", "空置房冬季优惠")
        lines = list((await session.execute(select(Waiver, Unit.is_vacant).join(Unit, Unit.id == Waiver.unit_id)
                                            .where(Waiver.estate_id == estate.id))).all())
        by_rule = [w for w, vacant in lines if w.rule_id == rule.id]
        assert by_rule and all(vacant for w, vacant in lines if w.rule_id == rule.id)
        asked = [w for w, vacant in lines if w.rule_id is None]
        assert len(asked) == 2 and {w.status for w in asked} == {"approved"}
        assert all(w.requested_by != w.decided_by for w in asked)
        # Every charge's waived amount is the sum of its approved lines.
        waived = (await session.execute(select(func.sum(Charge.amount_waived)).where(Charge.estate_id == estate.id))).scalar()
        assert waived == sum(w.amount for w, _ in lines)
