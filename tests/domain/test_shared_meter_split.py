"""The split of a shared meter's reading (公摊), pure: methods, the largest-remainder rule, subtraction."""
from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest

from app.domain.fees.shared_meters import split as rules
from app.domain.fees.shared_meters.model import SplitMethod

A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))


def amounts(parts: list[rules.UnitPart]) -> list[D]:
    return [p.amount for p in parts]


def test_by_area_with_the_units_own_meters_taken_off():
    result = rules.split(method=SplitMethod.area, previous=D("1000.00"), current=D("1250.00"), own_usage=D("180.00"),
                         rate=D("3.20"), areas={A: D("89.20"), B: D("520.30"), C: D("595.00")}, shares={})
    # 1250 − 1000 − 180 = 70 吨; 70 × 3.20 = 224.00元; Σ area 89.20 + 520.30 + 595.00 = 1204.50
    assert (result.usage, result.total, result.factor_total) == (D("70.00"), D("224.00"), D("1204.50"))
    # 224 × 89.20/1204.50 = 16.588… → 16.59; × 520.30/1204.50 = 96.759… → 96.76; × 595/1204.50 = 110.651… → 110.65
    assert amounts(result.parts) == [D("16.59"), D("96.76"), D("110.65")]
    assert sum(amounts(result.parts)) == D("224.00")  # 16.59 + 96.76 + 110.65, no fen left over


def test_by_household_equal_parts_sum_to_the_total():
    result = rules.split(method=SplitMethod.household, previous=D("0"), current=D("31.25"), own_usage=D("0"),
                         rate=D("3.20"), areas={A: D("89.20"), B: D("120.00"), C: D("60.00")}, shares={})
    # 31.25 × 3.20 = 100.00; 100 / 3 = 33.333… → 33.33 each = 99.99; the missing fen goes to the first (all tied)
    assert amounts(result.parts) == [D("33.34"), D("33.33"), D("33.33")]
    assert result.factor_total == 3


def test_fixed_share():
    result = rules.split(method=SplitMethod.fixed_share, previous=D("0"), current=D("100"), own_usage=D("0"),
                         rate=D("1.00"), areas={A: D("1"), B: D("1"), C: D("1")},
                         shares={A: D("0.5"), B: D("0.3"), C: D("0.2")})
    # 100 × 1.00 = 100.00; × 0.5 / 0.3 / 0.2
    assert amounts(result.parts) == [D("50.00"), D("30.00"), D("20.00")]


def test_fixed_shares_must_sum_to_one():
    with pytest.raises(rules.SharesDoNotSumToOne) as exc:
        rules.factors(SplitMethod.fixed_share, areas={}, shares={A: D("0.5"), B: D("0.4")})
    assert exc.value.extra["field"] == "shares"


def test_largest_remainder_gives_the_missing_fen_to_the_unit_that_lost_most():
    parts = rules.apportion(D("1.00"), {A: D("2"), B: D("3"), C: D("4")})
    # exact 1 × 2/9 = 0.2222, × 3/9 = 0.3333, × 4/9 = 0.4444 → 0.22 + 0.33 + 0.44 = 0.99: one fen missing;
    # the remainders lost are 0.0022, 0.0033, 0.0044: C lost most and gets it.
    assert amounts(parts) == [D("0.22"), D("0.33"), D("0.45")]
    assert [p.adjustment for p in parts] == [D("0"), D("0"), D("0.01")]
    assert sum(amounts(parts)) == D("1.00")


def test_largest_remainder_takes_a_fen_too_many_from_the_unit_that_gained_most():
    parts = rules.apportion(D("0.05"), {A: D("1"), B: D("2"), C: D("3")})
    # exact 0.05 × 1/6 = 0.00833, × 2/6 = 0.01667, × 3/6 = 0.025 → half up 0.01 + 0.02 + 0.03 = 0.06: one fen too many;
    # gained by rounding 0.00167, 0.00333, 0.005: C gained most and gives it back.
    assert amounts(parts) == [D("0.01"), D("0.02"), D("0.02")]
    assert sum(amounts(parts)) == D("0.05")


def test_a_negative_remainder_is_refused():
    with pytest.raises(rules.UsageBelowUnitMeters) as exc:
        rules.shared_usage(previous=D("1000"), current=D("1250"), own_usage=D("250.01"))
    assert exc.value.extra["field"] == "current"
    assert rules.shared_usage(previous=D("1000"), current=D("1250"), own_usage=D("250")) == 0


def test_no_units_to_share_over():
    with pytest.raises(rules.NoUnitsToShare):
        rules.factors(SplitMethod.area, areas={}, shares={})
