"""Late fees (滞纳金): the formula. They are posted as charges of their own (fees/late_fees/),
under the estate's late-fee rule in force on the charge's due date.

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
from app.domain.fees.model import Charge

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


def columns(row: Any) -> dict[str, Any]:  # any table row
    """A row's column values as stored (model_dump would warn about enums kept as text)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def charge_view(charge: Charge, *, posted: Decimal = ZERO, days: int = 0, accruing: Decimal = ZERO) -> dict[str, Any]:
    """A charge as the desk reads it: what is outstanding, the late fees posted on it, and what a
    payment today would post on top (fees/late_fees/service.py `accruing`)."""
    return {**columns(charge), "outstanding": charge.outstanding, "late_fee": posted, "late_fee_days": days,
            "late_fee_accruing": accruing}
