"""Capital Chinese numerals for amounts (人民币大写): a table of hand-checked cases."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.fees.payments.rmb import capital

CASES = [
    ("160.56", "壹佰陆拾元伍角陆分"),
    ("1000.00", "壹仟元整"),
    ("10.05", "壹拾元零伍分"),
    ("0.50", "伍角"),
    ("0.05", "伍分"),
    ("0.55", "伍角伍分"),
    ("0", "零元整"),
    ("0.00", "零元整"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("15", "壹拾伍元整"),
    ("100.10", "壹佰元壹角"),
    ("101", "壹佰零壹元整"),
    ("1005", "壹仟零伍元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("10000", "壹万元整"),
    ("10500", "壹万零伍佰元整"),
    ("15000", "壹万伍仟元整"),
    ("100500", "壹拾万零伍佰元整"),
    ("105000", "壹拾万伍仟元整"),
    ("1000000", "壹佰万元整"),
    ("10000001", "壹仟万零壹元整"),
    ("100000000", "壹亿元整"),
    ("100100000", "壹亿零壹拾万元整"),
    ("1000000005", "壹拾亿零伍元整"),
    ("9999999999.99", "玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("20304.07", "贰万零叁佰零肆元零柒分"),
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_capital(amount: str, words: str) -> None:
    assert capital(Decimal(amount)) == words


@pytest.mark.parametrize("bad", ["-1", "NaN", "Infinity", "1.005", "abc", "1e20"])
def test_refuses_what_cannot_be_written(bad: str) -> None:
    with pytest.raises(ValueError):
        capital(bad)
