"""Late fees: outstanding × daily rate × days past (due + grace), capped; computed, never stored."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.domain.fees.billing.late_fees import late_fee

DUE = date(2026, 10, 1)


def fee(as_of: date, *, amount="160.56", outstanding="160.56", rate="0.0005", grace=10, cap="0.1"):
    return late_fee(amount=D(amount), outstanding=D(outstanding), due_date=DUE, as_of=as_of,
                    daily_rate=D(rate) if rate is not None else None, grace_days=grace,
                    cap_share=D(cap) if cap is not None else None)


class TestLateFee:
    def test_nothing_within_grace(self):
        assert (fee(date(2026, 10, 11)).amount, fee(date(2026, 10, 11)).days) == (D("0.00"), 0)
        assert fee(date(2026, 9, 1)).days == 0

    def test_first_day_after_grace(self):
        # 160.56 × 0.0005 × 1 = 0.08028 -> 0.08
        result = fee(date(2026, 10, 12))
        assert (result.amount, result.days) == (D("0.08"), 1)

    def test_thirty_days(self):
        # due 10-01 + 10 days grace = 10-11; as of 11-10: 30 days; 160.56 × 0.0005 × 30 = 2.4084 -> 2.41
        result = fee(date(2026, 11, 10))
        assert (result.amount, result.days) == (D("2.41"), 30)

    def test_on_the_outstanding_part_only(self):
        # 60.56 unpaid of 160.56: 60.56 × 0.0005 × 30 = 0.9084 -> 0.91
        assert fee(date(2026, 11, 10), outstanding="60.56").amount == D("0.91")

    def test_rounds_half_up(self):
        # 5.00 × 0.001 × 1 = 0.005 -> 0.01 (banker's rounding would give 0.00)
        assert fee(date(2026, 10, 2), amount="5.00", outstanding="5.00", rate="0.001", grace=0, cap=None).amount == D("0.01")

    def test_cap(self):
        # 400 days: 160.56 × 0.0005 × 400 = 32.112; cap 10% of 160.56 = 16.056 -> 16.06
        result = fee(date(2027, 11, 15))
        assert result.days == 400
        assert result.amount == D("16.06")

    def test_no_cap(self):
        assert fee(date(2027, 11, 15), cap=None).amount == D("32.11")

    def test_no_rate_no_fee_but_days_counted(self):
        result = fee(date(2026, 11, 10), rate=None)
        assert (result.amount, result.days) == (D("0.00"), 30)

    def test_paid_owes_nothing(self):
        result = fee(date(2027, 1, 1), outstanding="0.00")
        assert (result.amount, result.days) == (D("0.00"), 0)
