"""How a month's charge is computed: pure rules, no database (§5.2, §7.3.13).

amount = price in force on the month's first day × (area | 1 | quantity) × months,
then the vacant-unit rule, rounded half up to the fen. The `basis` dict keeps every
factor so the desk can read the computation back to a doubting owner.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.domain.calendar import estate_time
from app.domain.fees.model import FeeKind, VacantRule

CENT = Decimal("0.01")
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def show_rate(value: Decimal) -> str:
    """A rate as the price list prints it: at least two places, no trailing zeros beyond (1.80, 0.5283)."""
    value = value.normalize()
    exponent = value.as_tuple().exponent  # an int for a finite number; a letter for NaN and infinity
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(CENT)
    return format(value, "f")


def due_date(month: str, due_day: int) -> date:
    return estate_time.month_first(month).replace(day=due_day)


def price_on(prices: Iterable[tuple[date, Decimal]], day: date) -> Decimal | None:
    """The price whose effective date is the latest on or before `day`."""
    in_force = [(start, price) for start, price in prices if start <= day]
    return max(in_force)[1] if in_force else None


@dataclass(frozen=True, kw_only=True)
class Line:
    amount: Decimal
    basis: dict[str, Any]


def factor_name(kind: FeeKind, *, subscribed: bool) -> str:
    if subscribed:
        return "quantity"
    return "area" if kind is FeeKind.per_area else "units"


def compute(
    *, kind: FeeKind, price: Decimal, area: Decimal, quantity: Decimal | None = None, months: int = 1,
    vacant: bool = False, vacant_rule: VacantRule = VacantRule.charge, vacant_discount: Decimal = Decimal("0"),
) -> Line | None:
    """One unit's charge for one item; None when nothing is owed (skipped, or zero)."""
    if vacant and vacant_rule is VacantRule.skip:
        return None
    subscribed = quantity is not None
    if quantity is not None:
        factor = quantity
    elif kind is FeeKind.per_area:
        factor = area
    else:
        factor = Decimal("1")
    gross = round_money(price * factor * months)
    basis: dict[str, Any] = {"rate": show_rate(price), factor_name(kind, subscribed=subscribed): str(factor),
                             "months": months, "vacant_discount": None}
    amount = gross
    if vacant and vacant_rule is VacantRule.discount and vacant_discount > 0:
        discount = round_money(gross * vacant_discount)
        amount = gross - discount
        basis.update(vacant_discount=str(vacant_discount), gross=str(gross), discount=str(discount))
    if amount <= 0:
        return None
    return Line(amount=amount, basis=basis)


def metered(*, price: Decimal, previous: Decimal, current: Decimal) -> Line | None:
    """A reading's charge: (current - previous) × price; None when nothing was used."""
    used = current - previous
    amount = round_money(used * price)
    if amount <= 0:
        return None
    # Readings carry two places (the column's scale), however they were typed.
    return Line(amount=amount, basis={"rate": show_rate(price), "previous": str(previous.quantize(CENT)),
                                      "current": str(current.quantize(CENT)), "quantity": str(used.quantize(CENT))})


def describe(month: str, item_name: str) -> str:
    """2026年11月物业管理费"""
    start = estate_time.month_first(month)
    return f"{start.year}年{start.month}月{item_name}"[:200]
