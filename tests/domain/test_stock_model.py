"""Stock rules without a database: the stocktake's transitions, differences, money, month ends."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pytest

from app.domain.calendar.estate_time import PREVIOUS_MONTH
from app.domain.errors import IllegalTransition
from app.domain.registry.model import Estate
from app.domain.stock.model import STOCKTAKE_TRANSITIONS, Stocktake, StocktakeLine, StocktakeStatus, money
from app.domain.stock.report import totals
from app.domain.stock.stocktake import line_read, month_end, month_of

S = StocktakeStatus


def _count(status: S) -> Stocktake:
    return Stocktake(estate_id=uuid.uuid4(), reference="PD-202611-01", month="2026-11", status=status,
                     opened_at=datetime(2026, 11, 25), due_at=datetime(2026, 12, 1))


def _line(snapshot: str, book: str | None, counted: str | None) -> StocktakeLine:
    return StocktakeLine(estate_id=uuid.uuid4(), stocktake_id=uuid.uuid4(), stock_item_id=uuid.uuid4(), code="A", name="A",
                         unit="米", snapshot_quantity=Decimal(snapshot), book_at_count=Decimal(book) if book else None,
                         counted_quantity=Decimal(counted) if counted else None)


class TestTransitions:
    def test_open_counting_posted(self):
        st = _count(S.open)
        assert st.move("count") is S.counting and st.move("count") is S.counting and st.move("post") is S.posted

    @pytest.mark.parametrize("status,action", [(S.open, "post"), (S.posted, "post"), (S.posted, "count"), (S.posted, "cancel"),
                                               (S.cancelled, "count"), (S.cancelled, "post"), (S.cancelled, "cancel")])
    def test_illegal(self, status, action):
        st = _count(status)
        with pytest.raises(IllegalTransition):
            st.check(action)
        with pytest.raises(IllegalTransition):
            st.move(action)
        assert st.status is status

    def test_posted_and_cancelled_allow_nothing(self):
        assert STOCKTAKE_TRANSITIONS.allowed_actions(S.posted) == STOCKTAKE_TRANSITIONS.allowed_actions(S.cancelled) == []
        assert STOCKTAKE_TRANSITIONS.allowed_actions(S.open) == ["cancel", "count"]


class TestFigures:
    def test_difference_is_counted_minus_book_at_count(self):
        assert _line("10", "8", "7").difference == Decimal("-1")
        assert _line("10", None, None).difference is None

    def test_money_rounds_half_up_to_the_fen(self):
        assert money(Decimal("0.333"), Decimal("1.50")) == Decimal("0.50")  # 0.4995
        assert money(Decimal("2.345"), Decimal("1.00")) == Decimal("2.35")
        assert money(Decimal("12.5"), Decimal("6.50")) == Decimal("81.25")

    def test_line_values_and_totals_add_up(self):
        lines = [line_read(_line("10", "8", "7"), Decimal("6.50")), line_read(_line("3", "3", "3.333"), Decimal("0.33")),
                 line_read(_line("1", None, None), Decimal("5.00"))]
        assert (lines[0].movements_since, lines[0].book_value, lines[0].difference_value) == (Decimal("-2"), Decimal("52.00"),
                                                                                             Decimal("-6.50"))
        t = totals(lines)
        assert (t.items, t.counted, t.shortages, t.surpluses) == (3, 2, 1, 1)
        assert t.counted_value - t.book_value == t.difference_value == t.shortage_value + t.surplus_value


class TestMonths:
    def test_month_end_is_local_midnight(self):
        estate = Estate(company_id=uuid.uuid4(), name="x", office_name="x", code="X", time_zone="Asia/Shanghai")
        assert month_end(estate, "2026-12").isoformat() == "2027-01-01T00:00:00+08:00"
        assert month_end(estate, "2024-02").isoformat() == "2024-03-01T00:00:00+08:00"
        assert month_of(estate, datetime.fromisoformat("2026-11-30T16:30:00+00:00")) == "2026-12"

    def test_overdue_job_is_for_the_month_that_ended(self):
        assert PREVIOUS_MONTH(datetime(2026, 12, 1, 0, 5)) == "2026-11"
        assert PREVIOUS_MONTH(datetime(2027, 1, 1, 0, 5)) == "2026-12"
        assert PREVIOUS_MONTH(datetime(2026, 12, 15, 10)) == "2026-11"
