"""Proration by days: one rule, rounded once half up, on months of 28 to 31 days."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from app.domain.fees.billing import rules as billing
from app.domain.fees.model import FeeKind, VacantRule


def prorate(price: str, factor: str, days: int, length: int) -> D:
    return billing.prorate(price=D(price), factor=D(factor), days=days, days_in_month=length)


class TestProrate:
    def test_the_issues_example(self):
        # 2.50 × 89.20 = 223.00; × 17/30 = 3791/30 = 126.3666… -> 126.37
        assert prorate("2.50", "89.20", 17, 30) == D("126.37")

    @pytest.mark.parametrize(("days", "length", "amount"), [
        (10, 28, "79.64"),  # 223.00 × 10/28 = 79.642857… -> 79.64 (Feb 2027)
        (1, 29, "7.69"),  # 223.00 × 1/29 = 7.689655… -> 7.69 (Feb 2028)
        (29, 30, "215.57"),  # 223.00 × 29/30 = 215.5666… -> 215.57
        (17, 31, "122.29"),  # 223.00 × 17/31 = 122.290322… -> 122.29 (move-in on 15 Jan)
        (1, 31, "7.19"),  # 223.00 × 1/31 = 7.193548… -> 7.19
    ])
    def test_hand_checked_month_lengths(self, days, length, amount):
        assert prorate("2.50", "89.20", days, length) == D(amount)

    @pytest.mark.parametrize("length", [28, 29, 30, 31])
    def test_whole_month_is_the_unprorated_amount_exactly(self, length):
        assert prorate("2.50", "89.20", length, length) == D("223.00")
        # 1.8333 × 89.20 = 163.53036 -> 163.53, the same as billing the month whole.
        assert prorate("1.8333", "89.20", length, length) == billing.round_money(D("1.8333") * D("89.20"))

    def test_rounds_once_half_up(self):
        # 28.70 × 1/28 = 1.025 exactly -> 1.03 (banker's rounding would give 1.02)
        assert prorate("28.70", "1", 1, 28) == D("1.03")
        # Once, not per day: 2.50 × 89.20 / 30 = 7.4333 a day; rounding that first gives 7.43 × 17 = 126.31.
        assert prorate("2.50", "89.20", 17, 30) != D("7.43") * 17

    @pytest.mark.parametrize(("price", "factor", "days", "length", "amount"), [
        ("28.70", "1", 1, 28, "1.03"),  # 28.70 / 28 = 1.025 exactly
        ("0.29", "0.5", 1, 29, "0.01"),  # 0.145 / 29 = 0.005 exactly
        ("4.50", "1", 1, 30, "0.15"),  # 4.50 / 30 = 0.15 exactly: no rounding at all
        ("0.60", "0.5", 1, 30, "0.01"),  # 0.30 / 30 = 0.01 exactly
        ("3.10", "0.05", 1, 31, "0.01"),  # 0.155 / 31 = 0.005 exactly
        ("2.00", "0.1", 15, 28, "0.11"),  # 0.20 × 15 / 28 = 0.107142… -> 0.11
        ("2.00", "0.1", 15, 29, "0.10"),  # 0.20 × 15 / 29 = 0.103448… -> 0.10
    ])
    def test_half_up_ties_and_near_ties_on_every_month_length(self, price, factor, days, length, amount):
        assert prorate(price, factor, days, length) == D(amount)

    def test_no_days_is_nothing(self):
        assert prorate("2.50", "89.20", 0, 31) == D("0.00")

    @pytest.mark.parametrize(("days", "length"), [(32, 31), (-1, 30), (5, 27), (5, 32)])
    def test_impossible_days_refused(self, days, length):
        with pytest.raises(ValueError):
            prorate("2.50", "89.20", days, length)


class TestBilledDays:
    @pytest.mark.parametrize(("month", "start", "end", "days"), [
        ("2027-01", date(2027, 1, 15), None, (17, 31)),  # move-in on the 15th: 15..31
        ("2027-02", None, date(2027, 2, 10), (10, 28)),  # move-out on the 10th: 1..10
        ("2028-02", None, date(2028, 2, 29), (29, 29)),  # to the last day of a leap February: whole
        ("2026-11", date(2026, 11, 1), None, (30, 30)),  # from the first day: whole
        ("2027-01", date(2027, 1, 31), None, (1, 31)),  # the last day only
        ("2027-01", None, date(2027, 1, 1), (1, 31)),  # the first day only
        ("2027-01", date(2027, 1, 10), date(2027, 1, 20), (11, 31)),  # in and out within the month
        ("2027-03", None, date(2027, 2, 10), (0, 31)),  # moved out before the month
        ("2026-12", date(2027, 1, 15), None, (0, 31)),  # moves in after it
        ("2026-12", None, None, (31, 31)),
    ])
    def test_days_of_the_month(self, month, start, end, days):
        assert billing.billed_days(month, billed_from=start, billed_to=end) == days


class TestComputeProrated:
    def test_basis_carries_the_days(self):
        line = billing.compute(kind=FeeKind.per_area, price=D("2.50"), area=D("89.20"), days=17, days_in_month=30)
        assert line is not None and line.amount == D("126.37")
        assert line.basis == {"rate": "2.50", "area": "89.20", "months": 1, "vacant_discount": None,
                              "days": 17, "days_in_month": 30}

    def test_whole_month_keeps_the_plain_basis(self):
        line = billing.compute(kind=FeeKind.per_area, price=D("2.50"), area=D("89.20"), days=31, days_in_month=31)
        assert line is not None and line.amount == D("223.00") and "days" not in line.basis

    def test_vacant_discount_applies_to_the_prorated_gross(self):
        # gross 126.37; 50% off: 63.185 -> 63.19; 126.37 - 63.19 = 63.18
        line = billing.compute(kind=FeeKind.per_area, price=D("2.50"), area=D("89.20"), days=17, days_in_month=30,
                               vacant=True, vacant_rule=VacantRule.discount, vacant_discount=D("0.5"))
        assert line is not None and line.amount == D("63.18") and line.basis["gross"] == "126.37"
