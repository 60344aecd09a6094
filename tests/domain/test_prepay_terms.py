"""Prepay N months, get M free (预交N个月送M个月): the months and the deposit it takes (no database)."""
from __future__ import annotations

from decimal import Decimal

from app.domain.fees.billing.rules import compute
from app.domain.fees.model import FeeKind
from app.domain.fees.waivers.model import months_apart, prepay_terms


def test_ten_months_paid_earn_the_two_after_them():
    # 物业费 2.50元/㎡·月 × 89.20㎡ = 223.00 a month; N = 10: 10 × 223.00 = 2230.00.
    line = compute(kind=FeeKind.per_area, price=Decimal("2.50"), area=Decimal("89.20"))
    assert line is not None and line.amount == Decimal("223.00")
    terms = prepay_terms(first_month="2026-12", prepay_months=10, free_months=2, monthly=line.amount)
    assert terms.prepaid == ["2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06", "2027-07",
                             "2027-08", "2027-09"]
    assert terms.free == ["2027-10", "2027-11"]
    assert terms.required == Decimal("2230.00")


def test_one_month_for_one_across_a_year_end():
    terms = prepay_terms(first_month="2026-12", prepay_months=1, free_months=1, monthly=Decimal("15.00"))
    assert (terms.prepaid, terms.free, terms.required) == (["2026-12"], ["2027-01"], Decimal("15.00"))


def test_months_apart():
    assert months_apart("2026-12", "2026-12") == 0
    assert months_apart("2026-12", "2027-12") == 12
    assert months_apart("2026-12", "2026-11") == -1
