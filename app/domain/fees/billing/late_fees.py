"""Late fees (滞纳金): computed on read from the charge and its item's rule, never stored.

fee = outstanding × daily rate × days past (due date + grace days), rounded half up to
the fen, and never more than cap_share × the charge's amount. Days are counted from the
day after the grace period ends: due 10-01 with 10 days' grace owes one day on 10-12.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from app.domain.fees.billing.rules import round_money
from app.domain.fees.model import Charge, FeeItem

ZERO = Decimal("0.00")


@dataclass(frozen=True, kw_only=True)
class LateFee:
    amount: Decimal
    days: int


def late_fee(
    *, amount: Decimal, outstanding: Decimal, due_date: date, as_of: date,
    daily_rate: Decimal | None, grace_days: int = 0, cap_share: Decimal | None = None,
) -> LateFee:
    if outstanding <= 0:
        return LateFee(amount=ZERO, days=0)
    days = max(0, (as_of - (due_date + timedelta(days=grace_days))).days)
    if not daily_rate or days == 0:
        return LateFee(amount=ZERO, days=days)
    fee = round_money(outstanding * daily_rate * days)
    if cap_share is not None:
        fee = min(fee, round_money(amount * cap_share))
    return LateFee(amount=fee, days=days)


def for_charge(charge: Charge, item: FeeItem, *, as_of: date) -> LateFee:
    return late_fee(amount=charge.amount, outstanding=charge.outstanding, due_date=charge.due_date,
                    as_of=as_of, daily_rate=item.late_fee_daily_rate, grace_days=item.late_fee_grace_days,
                    cap_share=item.late_fee_cap_share)


def columns(row: Any) -> dict[str, Any]:  # any table row
    """A row's column values as stored (model_dump would warn about enums kept as text)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def charge_view(charge: Charge, item: FeeItem, *, as_of: date) -> dict[str, Any]:
    """A charge as the desk reads it: with what is outstanding and the late fee as of `as_of`."""
    fee = for_charge(charge, item, as_of=as_of)
    return {**columns(charge), "outstanding": charge.outstanding, "late_fee": fee.amount,
            "late_fee_days": fee.days}
