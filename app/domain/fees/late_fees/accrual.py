"""What a charge has accrued in late fees, and what of it is still to be posted: pure.

The formula is billing/late_fees.py's: outstanding × daily rate × days past (due date + grace
days), rounded half up to the fen, never more than cap_share × the charge's amount. Late fees
are posted as charges of their own, incrementally: `to_post` is what accrued beyond what was
already posted on the charge (waived or not: a waived late fee was posted, then forgiven).

The rule that applies is the one in force on the charge's due date, not on the day it is paid:
the owner was late under the rule of the day the money fell due.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.fees.billing.late_fees import late_fee
from app.domain.fees.billing.rules import CENT, round_money
from app.domain.fees.late_fees.model import LateFeeRule
from app.domain.fees.model import Charge, ChargeSource, ChargeState

ZERO = Decimal("0.00")


@dataclass(frozen=True, kw_only=True)
class Accrued:
    amount: Decimal  # accrued in all, as of `as_of`, capped
    as_of: date
    days_past_due: int
    days: int  # days charged: past the due date and the grace days
    outstanding: Decimal
    uncapped: Decimal
    cap: Decimal | None
    rule: LateFeeRule | None

    @property
    def capped(self) -> bool:
        return self.cap is not None and self.uncapped > self.cap


def rule_in_force(rules: Iterable[LateFeeRule], day: date) -> LateFeeRule | None:
    """The latest rule effective on or before `day`; None before the first."""
    return max((r for r in rules if r.effective_from <= day), key=lambda r: r.effective_from, default=None)


def applies(rule: LateFeeRule | None, charge: Charge) -> bool:
    """A late fee accrues on a covered item's charge, never on a late fee or a cancelled charge."""
    return (rule is not None and charge.fee_item_id in set(rule.fee_item_ids)
            and ChargeSource(charge.source) is not ChargeSource.late_fee and ChargeState(charge.state) is ChargeState.open)


def accrued(charge: Charge, rule: LateFeeRule | None, as_of: date) -> Accrued:
    """The late fee `charge` has accrued by `as_of` under `rule` (the one in force on its due date)."""
    days_past_due = (as_of - charge.due_date).days
    if not applies(rule, charge):
        return Accrued(amount=ZERO, as_of=as_of, days_past_due=days_past_due, days=0, outstanding=charge.outstanding,
                       uncapped=ZERO, cap=None, rule=None)
    assert rule is not None
    fee = late_fee(amount=charge.amount, outstanding=charge.outstanding, due_date=charge.due_date, as_of=as_of,
                   daily_rate=rule.daily_rate, grace_days=rule.grace_days, cap_share=rule.cap_share)
    outstanding = charge.outstanding
    uncapped = round_money(outstanding * rule.daily_rate * fee.days) if outstanding > 0 else ZERO
    cap = round_money(charge.amount * rule.cap_share) if rule.cap_share is not None else None
    return Accrued(amount=fee.amount, as_of=as_of, days_past_due=days_past_due, days=fee.days, outstanding=outstanding,
                   uncapped=uncapped, cap=cap, rule=rule)


def to_post(accrued: Decimal, posted: Decimal) -> Decimal:
    """What is still to be posted: the accrued amount beyond what was posted; never negative
    (a partly paid charge accrues less than was posted on its larger outstanding before)."""
    return max(ZERO, accrued - posted)


def _plain(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _percent(share: Any) -> str:
    return _plain(Decimal(str(share)) * 100) + "%"


def sentence(acc: Accrued, *, posted: Decimal = ZERO) -> str:
    """As the desk reads it out; empty when nothing accrued. Posted already: said and taken off."""
    if acc.amount <= 0 or acc.rule is None:
        return ""
    rule = acc.rule
    text = f"滞纳金 未缴{acc.outstanding.quantize(CENT)}元 × {_percent(rule.daily_rate)}/天 × {acc.days}天"
    if rule.grace_days:
        # Not 「天后」: OpenCC reads it as the goddess (天后) and keeps 后 in traditional.
        text += f"（宽限{rule.grace_days}天之后起算）"
    text += f" = {acc.uncapped.quantize(CENT)}元"
    if acc.capped:
        text += f"，封顶{_percent(rule.cap_share)} = {acc.amount.quantize(CENT)}元"
    if posted > 0:
        text += f"，已计{posted.quantize(CENT)}元，本次{to_post(acc.amount, posted).quantize(CENT)}元"
    return text


def basis(acc: Accrued, *, posted: Decimal) -> dict[str, Any]:
    """The posted late-fee charge's basis: every factor, so the bill explains it without the rule."""
    assert acc.rule is not None
    rule = acc.rule
    return {"rule_id": str(rule.id), "effective_from": rule.effective_from.isoformat(), "as_of": acc.as_of.isoformat(),
            "outstanding": str(acc.outstanding), "daily_rate": _plain(rule.daily_rate), "grace_days": rule.grace_days,
            "days": acc.days, "days_past_due": acc.days_past_due,
            "cap_share": _plain(rule.cap_share) if rule.cap_share is not None else None,
            "cap": str(acc.cap) if acc.cap is not None else None, "accrued": str(acc.amount), "posted_before": str(posted),
            "explanation": sentence(acc, posted=posted)}


def posted_days(late_fee_charges: Iterable[Mapping[str, Any]]) -> int:
    """The days the posted late fees of a charge reached (the latest posting's), from their bases."""
    return max((int(b.get("days", 0)) for b in late_fee_charges), default=0)
