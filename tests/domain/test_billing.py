"""Pure billing rules: price in force, per m² / fixed / quantity, vacant rule, rounding, basis."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from app.domain.calendar import estate_time
from app.domain.fees.billing import rules as billing
from app.domain.fees.model import FeeKind, VacantRule


def per_area(area: str, price: str = "1.80", **kw) -> billing.Line | None:
    return billing.compute(kind=FeeKind.per_area, price=D(price), area=D(area), **kw)


class TestAmounts:
    @pytest.mark.parametrize(("area", "amount"), [("89.20", "160.56"), ("112.70", "202.86"), ("143.90", "259.02")])
    def test_hand_checked_month(self, area, amount):
        line = per_area(area)
        assert line.amount == D(amount)
        assert line.basis == {"rate": "1.80", "area": area, "months": 1, "vacant_discount": None}

    def test_rounds_half_up_to_the_fen(self):
        # 0.5 × 1.01 = 0.505 -> 0.51 (banker's rounding would give 0.50)
        assert per_area("1.01", price="0.5").amount == D("0.51")
        assert per_area("1.00", price="0.125").amount == D("0.13")

    def test_months_multiply(self):
        line = per_area("89.20", months=3)
        assert line.amount == D("481.68") and line.basis["months"] == 3

    def test_fixed_is_per_unit(self):
        line = billing.compute(kind=FeeKind.fixed, price=D("15"), area=D("143.90"))
        assert line.amount == D("15.00")
        assert line.basis == {"rate": "15.00", "units": "1", "months": 1, "vacant_discount": None}

    def test_subscription_quantity(self):
        line = billing.compute(kind=FeeKind.fixed, price=D("150"), area=D("89.20"), quantity=D("2"))
        assert line.amount == D("300.00") and line.basis["quantity"] == "2"

    def test_zero_price_owes_nothing(self):
        assert per_area("89.20", price="0") is None


class TestVacant:
    def test_discount(self):
        line = per_area("112.70", vacant=True, vacant_rule=VacantRule.discount, vacant_discount=D("0.5"))
        assert line.amount == D("101.43")  # 202.86 - 101.43
        assert line.basis["gross"] == "202.86" and line.basis["discount"] == "101.43"
        assert line.basis["vacant_discount"] == "0.5"

    def test_odd_discount_rounds_the_discount(self):
        line = per_area("89.20", vacant=True, vacant_rule=VacantRule.discount, vacant_discount=D("0.3"))
        assert line.amount == D("112.39")  # 160.56 - 48.168→48.17

    def test_skip(self):
        assert per_area("89.20", vacant=True, vacant_rule=VacantRule.skip) is None

    def test_charge_in_full(self):
        assert per_area("89.20", vacant=True, vacant_rule=VacantRule.charge).amount == D("160.56")

    def test_rule_only_for_vacant_units(self):
        assert per_area("89.20", vacant=False, vacant_rule=VacantRule.skip).amount == D("160.56")

    def test_full_discount_owes_nothing(self):
        assert per_area("89.20", vacant=True, vacant_rule=VacantRule.discount, vacant_discount=D("1")) is None


class TestPrices:
    PRICES = [(date(2020, 1, 1), D("1.50")), (date(2026, 12, 1), D("1.80")), (date(2026, 6, 15), D("1.60"))]

    def test_price_in_force_on_the_day(self):
        assert billing.price_on(self.PRICES, date(2026, 11, 1)) == D("1.60")
        assert billing.price_on(self.PRICES, date(2026, 12, 1)) == D("1.80")
        assert billing.price_on(self.PRICES, date(2026, 6, 14)) == D("1.50")
        assert billing.price_on(self.PRICES, date(2019, 12, 31)) is None

    def test_show_rate(self):
        assert [billing.show_rate(D(v)) for v in ("1.8000", "15", "0.5283", "2.50")] == ["1.80", "15.00", "0.5283", "2.50"]


class TestMonths:
    def test_month_helpers(self):
        assert estate_time.month_first("2026-11") == date(2026, 11, 1)
        assert billing.due_date("2026-02", 28) == date(2026, 2, 28)
        assert estate_time.month_key(date(2026, 1, 31)) == "2026-01"
        assert billing.describe("2026-11", "物业管理费") == "2026年11月物业管理费"

    @pytest.mark.parametrize("bad", ["2026-13", "2026-00", "2026-1", "26-11", "2026-11-01", ""])
    def test_not_a_month(self, bad):
        with pytest.raises(ValueError):
            estate_time.month_first(bad)


class TestMetered:
    def test_reading_times_price(self):
        line = billing.metered(price=D("3.45"), previous=D("1200.5"), current=D("1218.7"))
        assert line.amount == D("62.79")  # 18.2 × 3.45 = 62.79
        assert line.basis == {"rate": "3.45", "previous": "1200.50", "current": "1218.70", "quantity": "18.20"}

    def test_nothing_used(self):
        assert billing.metered(price=D("3.45"), previous=D("10"), current=D("10")) is None
