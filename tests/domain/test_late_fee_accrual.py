"""Late fees as charges: what accrued, what is still to post, which rule applies. No database."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal as D

from app.domain.fees.late_fees.accrual import accrued, basis, rule_in_force, to_post
from app.domain.fees.late_fees.model import LateFeeRule
from app.domain.fees.model import Charge, ChargeSource, ChargeState

ITEM = uuid.uuid4()
ESTATE = uuid.uuid4()


def rule(effective_from: date, rate: str = "0.0005", grace: int = 10, cap: str | None = "0.1",
         items: list[uuid.UUID] | None = None) -> LateFeeRule:
    return LateFeeRule(estate_id=ESTATE, effective_from=effective_from, daily_rate=D(rate), grace_days=grace,
                       cap_share=D(cap) if cap is not None else None, fee_item_ids=[ITEM] if items is None else items)


def charge(amount: str = "160.56", paid: str = "0.00", due: date = date(2026, 10, 1), **kw: object) -> Charge:
    return Charge(estate_id=ESTATE, unit_id=uuid.uuid4(), fee_item_id=ITEM, period="2026-10", description="2026年10月物业管理费",
                  amount=D(amount), amount_paid=D(paid), due_date=due, source=kw.pop("source", ChargeSource.billing), **kw)


RULE = rule(date(2000, 1, 1))


class TestAccrued:
    def test_grace_boundary(self):
        # due 10-01 + 10 days' grace = 10-11: nothing on 10-11, one day on 10-12: 160.56 × 0.0005 = 0.08028 -> 0.08
        assert (accrued(charge(), RULE, date(2026, 10, 11)).amount, accrued(charge(), RULE, date(2026, 10, 11)).days) == (D("0.00"), 0)
        first = accrued(charge(), RULE, date(2026, 10, 12))
        assert (first.amount, first.days, first.days_past_due) == (D("0.08"), 1, 11)

    def test_cap(self):
        # 400 days: 160.56 × 0.0005 × 400 = 32.112 -> 32.11; cap 10% of 160.56 = 16.056 -> 16.06
        acc = accrued(charge(), RULE, date(2027, 11, 15))
        assert (acc.days, acc.uncapped, acc.cap, acc.amount, acc.capped) == (400, D("32.11"), D("16.06"), D("16.06"), True)

    def test_cap_is_on_the_charges_amount_not_the_outstanding(self):
        # 60.56 unpaid, 400 days: 60.56 × 0.0005 × 400 = 12.112 -> 12.11, under the 16.06 cap of the whole charge
        assert accrued(charge(paid="100.00"), RULE, date(2027, 11, 15)).amount == D("12.11")

    def test_not_on_items_the_rule_does_not_name_nor_on_late_fees_nor_cancelled(self):
        assert accrued(charge(), rule(date(2000, 1, 1), items=[uuid.uuid4()]), date(2027, 1, 1)).amount == 0
        assert accrued(charge(source=ChargeSource.late_fee), RULE, date(2027, 1, 1)).amount == 0
        assert accrued(charge(state=ChargeState.cancelled), RULE, date(2027, 1, 1)).amount == 0
        assert accrued(charge(), None, date(2027, 1, 1)).amount == 0

    def test_waived_part_owes_no_late_fee(self):
        # 160.56 − 60.56 waived = 100.00 × 0.0005 × 30 = 1.50
        assert accrued(charge(amount_waived=D("60.56")), RULE, date(2026, 11, 10)).amount == D("1.50")


class TestToPost:
    def test_only_what_accrued_beyond_what_was_posted(self):
        assert to_post(D("2.41"), D("0.00")) == D("2.41")
        assert to_post(D("2.41"), D("1.20")) == D("1.21")
        assert to_post(D("2.41"), D("2.41")) == D("0.00")

    def test_never_negative(self):
        # Posted on a larger outstanding before a part payment: nothing more, nothing back.
        assert to_post(D("0.91"), D("2.41")) == D("0.00")

    def test_basis_keeps_every_factor(self):
        acc = accrued(charge(), RULE, date(2026, 11, 10))
        got = basis(acc, posted=D("1.00"))
        assert (got["daily_rate"], got["grace_days"], got["days"], got["cap"], got["accrued"], got["posted_before"]) == (
            "0.0005", 10, 30, "16.06", "2.41", "1.00")
        assert got["explanation"] == "滞纳金 未缴160.56元 × 0.05%/天 × 30天（宽限10天之后起算） = 2.41元，已计1.00元，本次1.41元"


class TestRuleVersions:
    OLD, NEW = rule(date(2026, 1, 1), rate="0.0005"), rule(date(2026, 11, 1), rate="0.001")

    def test_the_rule_in_force_on_the_due_date(self):
        rules = [self.NEW, self.OLD]
        assert rule_in_force(rules, date(2025, 12, 31)) is None
        assert rule_in_force(rules, date(2026, 1, 1)) is self.OLD
        assert rule_in_force(rules, date(2026, 10, 31)) is self.OLD
        assert rule_in_force(rules, date(2026, 11, 1)) is self.NEW

    def test_a_charge_due_before_the_new_rule_keeps_the_old_rate_when_paid_after_it(self):
        # Due 10-01 (old rule, 0.05%), paid 12-10: 160.56 × 0.0005 × (70 − 10) = 4.8168 -> 4.82, not 0.1% (9.63)
        due = charge()
        acc = accrued(due, rule_in_force([self.OLD, self.NEW], due.due_date), date(2026, 12, 10))
        assert (acc.amount, acc.days) == (D("4.82"), 60)
