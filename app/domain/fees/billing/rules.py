"""How a month's charge is computed: pure rules, no database (§5.2, §7.3.13).

amount = price in force on the month's first day × (area | 1 | quantity) × months,
then the vacant-unit rule, rounded half up to the fen. A month billed only in part (move-in,
move-out, a subscription starting mid-month) is `prorate`d by days. The `basis` dict keeps every
factor so the desk can read the computation back to a doubting owner.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
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


def prorate(*, price: Decimal, factor: Decimal, days: int, days_in_month: int) -> Decimal:
    """price × factor × days / days_in_month, rounded ONCE, half up, to the fen.

    The one proration rule of the ledger. Nothing is rounded on the way (not the monthly
    amount, not the daily rate): 2.50 × 89.20 × 17/30 = 126.3666… → 126.37, where rounding
    the month first (223.00 × 17/30) happens to agree but a daily rate (7.43 × 17 = 126.31)
    would not. All the days of the month give the unprorated amount exactly.
    """
    if not 0 <= days <= days_in_month or not 28 <= days_in_month <= 31:
        raise ValueError(f"{days} days of a {days_in_month}-day month")
    if days == days_in_month:
        return round_money(price * factor)
    return round_money(price * factor * days / days_in_month)


def billed_days(month: str, *, billed_from: date | None, billed_to: date | None) -> tuple[int, int]:
    """(days of the month inside [billed_from, billed_to], the month's length); open ends are unbounded."""
    first, last = estate_time.month_days(month)
    start = max(first, billed_from) if billed_from else first
    end = min(last, billed_to) if billed_to else last
    length = (last - first).days + 1
    return max(0, (end - start + timedelta(days=1)).days), length


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
    days: int | None = None, days_in_month: int | None = None,
) -> Line | None:
    """One unit's charge for one item; None when nothing is owed (skipped, or zero).

    With `days` of `days_in_month` (a month billed in part), the gross is `prorate`d and the
    basis keeps both, for the bill's 「× 17/30个月」; the vacant discount applies to that gross.
    """
    if vacant and vacant_rule is VacantRule.skip:
        return None
    subscribed = quantity is not None
    if quantity is not None:
        factor = quantity
    elif kind is FeeKind.per_area:
        factor = area
    else:
        factor = Decimal("1")
    basis: dict[str, Any] = {"rate": show_rate(price), factor_name(kind, subscribed=subscribed): str(factor),
                             "months": months, "vacant_discount": None}
    if days is not None and days_in_month is not None and days < days_in_month:
        gross = prorate(price=price, factor=factor * months, days=days, days_in_month=days_in_month)
        basis.update(days=days, days_in_month=days_in_month)
    else:
        gross = round_money(price * factor * months)
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
