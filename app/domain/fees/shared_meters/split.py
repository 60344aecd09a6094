"""The split of a shared meter's reading over its units: pure rules, no database.

usage  = current − previous − Σ the units' own readings of the period (when subtracted);
total  = usage × the price in force on the period's first day, half up to the fen;
a unit = total × factor / Σ factor, where the factor is its area (area), 1 (household) or its
         agreed share (fixed_share, the shares summing to exactly 1).

Rounding (largest remainder): every unit's exact part is rounded half up to the fen; the
cents the rounded parts miss (or exceed) the total by are then given (or taken) one fen at a
time to the units whose exact part lost the most to rounding (or gained the most), ties in
the order the units were given. The lines therefore sum to the total exactly, and no unit
is more than one fen from its exact part.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.domain.errors import Invalid
from app.domain.fees.billing.rules import CENT, round_money
from app.domain.fees.shared_meters.model import SplitMethod

ONE = Decimal("1")
EXACT = Decimal("0.000001")


class UsageBelowUnitMeters(Invalid):
    title = "The units' own meters used more than the shared meter: nothing is left to share"
    title_zh = "各户分表用量超过公摊总表用量：没有可分摊的用量"


class SharesDoNotSumToOne(Invalid):
    title = "The fixed shares of a shared meter must add up to exactly 1"
    title_zh = "公摊表的固定分摊比例之和必须正好为 1"


class NoUnitsToShare(Invalid):
    title = "The shared meter has no private units to split over"
    title_zh = "该公摊表没有可分摊的业主房屋"


@dataclass(frozen=True, kw_only=True)
class UnitPart:
    unit_id: uuid.UUID
    factor: Decimal
    exact: Decimal
    amount: Decimal
    adjustment: Decimal


@dataclass(frozen=True, kw_only=True)
class Split:
    meter_usage: Decimal
    own_usage: Decimal
    usage: Decimal
    rate: Decimal
    total: Decimal
    factor_total: Decimal
    parts: list[UnitPart]


def shared_usage(*, previous: Decimal, current: Decimal, own_usage: Decimal) -> Decimal:
    """What is left to share once the units' own meters are taken off; never negative."""
    usage = current - previous - own_usage
    if usage < 0:
        raise UsageBelowUnitMeters(f"the meter used {current - previous}, the units' own meters {own_usage}",
                                   field="current", meter_usage=str(current - previous), own_usage=str(own_usage))
    return usage


def factors(method: SplitMethod, *, areas: Mapping[uuid.UUID, Decimal],
            shares: Mapping[uuid.UUID, Decimal]) -> dict[uuid.UUID, Decimal]:
    """Each unit's factor, in the order of `areas` (the units counted) or of `shares`."""
    if method is SplitMethod.fixed_share:
        check_shares(shares.values())
        return dict(shares)
    if not areas:
        raise NoUnitsToShare(field="building_id")
    if method is SplitMethod.household:
        return {unit: ONE for unit in areas}
    if sum(areas.values(), Decimal(0)) <= 0:
        raise NoUnitsToShare("the units have no area", field="building_id")
    return dict(areas)


def check_shares(shares: Iterable[Decimal]) -> None:
    values = list(shares)
    if not values or sum(values, Decimal(0)) != ONE:
        raise SharesDoNotSumToOne(f"the shares add up to {sum(values, Decimal(0))}", field="shares")


def apportion(total: Decimal, weights: Mapping[uuid.UUID, Decimal]) -> list[UnitPart]:
    """`total` over the weights, summing exactly to it (the largest-remainder rule above)."""
    weight_sum = sum(weights.values(), Decimal(0))
    exact = {u: total * w / weight_sum for u, w in weights.items()}
    rounded = {u: round_money(x) for u, x in exact.items()}
    cents = int((total - sum(rounded.values(), Decimal(0))) / CENT)
    order = list(weights)
    # Lost most to rounding first when fens are missing; gained most first when there are too many.
    by_loss = sorted(order, key=lambda u: (-(exact[u] - rounded[u]), order.index(u)))
    by_gain = sorted(order, key=lambda u: ((exact[u] - rounded[u]), order.index(u)))
    adjust = dict.fromkeys(order, Decimal("0.00"))
    for unit in (by_loss if cents > 0 else by_gain)[:abs(cents)]:
        adjust[unit] = CENT if cents > 0 else -CENT
    return [UnitPart(unit_id=u, factor=weights[u], exact=exact[u].quantize(EXACT), amount=rounded[u] + adjust[u],
                     adjustment=adjust[u]) for u in order]


def split(*, method: SplitMethod, previous: Decimal, current: Decimal, own_usage: Decimal, rate: Decimal,
          areas: Mapping[uuid.UUID, Decimal], shares: Mapping[uuid.UUID, Decimal]) -> Split:
    """The whole split of one reading."""
    usage = shared_usage(previous=previous, current=current, own_usage=own_usage)
    weights = factors(method, areas=areas, shares=shares)
    total = round_money(usage * rate)
    return Split(meter_usage=current - previous, own_usage=own_usage, usage=usage, rate=rate, total=total,
                 factor_total=sum(weights.values(), Decimal(0)), parts=apportion(total, weights))
