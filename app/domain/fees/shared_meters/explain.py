"""A shared meter's charge read back for the bill explanation (§7.3.13), from its stored basis:

公摊水费 (1,250.00 − 1,000.00 − 180.00)吨 × 3.20元/吨 × 89.20/1,204.50㎡ = 16.59元
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.domain.fees.model import FeeKind
from app.domain.fees.shared_meters.model import SplitMethod
from app.domain.fees.shared_meters.schemas import SharedShare
from app.domain.fees.statements.schemas import Computation


def figure(value: Any) -> str:
    """1250 -> 1,250.00: readings and areas as the office writes them on the notice."""
    return f"{Decimal(str(value)):,.2f}"


def plain(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _factor_text(method: SplitMethod, factor: str, factor_total: str) -> str:
    if method is SplitMethod.area:
        return f"{figure(factor)}/{figure(factor_total)}㎡"
    if method is SplitMethod.household:
        return f"1/{plain(factor_total)}户"
    return f"{plain(Decimal(factor) * 100)}%（约定份额）"


def explain(name: str, rate_unit: str, basis: Mapping[str, Any], amount: Decimal) -> tuple[Computation, str]:
    method = SplitMethod(basis["method"])
    usage_unit = rate_unit.split("/", 1)[1] if "/" in rate_unit else ""
    previous, current, own = basis["previous"], basis["current"], Decimal(str(basis["own_usage"]))
    adjustment = Decimal(str(basis.get("adjustment", "0")))
    shared = SharedShare(shared_meter=str(basis.get("shared_meter", "")), split_method=method,
                         meter_usage=plain(Decimal(str(current)) - Decimal(str(previous))), own_usage=plain(own),
                         total_usage=plain(basis["usage"]), total=Decimal(str(basis["total"])), factor=plain(basis["factor"]),
                         factor_total=plain(basis["factor_total"]), adjustment=adjustment)
    comp = Computation(method=FeeKind.metered, rate=str(basis["rate"]), rate_unit=rate_unit, previous=plain(previous),
                       current=plain(current), quantity=shared.total_usage, amount=amount, shared=shared)
    readings = f"{figure(current)} − {figure(previous)}" + (f" − {figure(own)}" if own else "")
    text = (f"{name} ({readings}){usage_unit} × {basis['rate']}{rate_unit} × "
            f"{_factor_text(method, basis['factor'], basis['factor_total'])} = ")
    if adjustment:
        # The rounded share, then the fen that makes every unit's share add up to the meter's total.
        text += f"{amount - adjustment}元，尾差{'+' if adjustment > 0 else '−'}{abs(adjustment)}元 = "
    return comp, text + f"{amount}元"
