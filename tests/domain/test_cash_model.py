"""The cashier session's rules without a database: transitions, the difference and its note."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.domain.errors import IllegalTransition
from app.domain.fees.cash.model import SESSION_TRANSITIONS, CashierSession, DifferenceNeedsNote, SessionStatus

AT = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def drawer(status: SessionStatus = SessionStatus.open) -> CashierSession:
    return CashierSession(estate_id=uuid.uuid4(), cashier_id=uuid.uuid4(), day=date(2026, 11, 20), status=status)


def expected(cash: str = "160.56", wechat: str = "0.00") -> dict[str, Decimal]:
    return {"cash": Decimal(cash), "wechat": Decimal(wechat)}


class TestTransitions:
    def test_the_table(self):
        assert SESSION_TRANSITIONS.allowed_actions(SessionStatus.open) == ["hand_over"]
        assert SESSION_TRANSITIONS.allowed_actions(SessionStatus.handed_over) == ["acknowledge"]
        assert SESSION_TRANSITIONS.allowed_actions(SessionStatus.acknowledged) == []

    def test_open_is_not_locked_handed_over_is(self):
        row = drawer()
        assert not row.is_locked
        row.hand_over(expected=expected(), counted_cash=Decimal("160.56"), note="", at=AT)
        assert row.is_locked and row.status is SessionStatus.handed_over

    def test_acknowledge_an_open_session_is_illegal(self):
        row = drawer()
        with pytest.raises(IllegalTransition) as exc:
            row.acknowledge(by=uuid.uuid4(), at=AT)
        assert exc.value.extra == {"entity": "cashier_session", "current_state": "open", "action": "acknowledge"}
        assert row.status is SessionStatus.open and row.acknowledged_at is None

    @pytest.mark.parametrize("status", [SessionStatus.handed_over, SessionStatus.acknowledged])
    def test_hand_over_twice_is_illegal(self, status):
        row = drawer(status)
        with pytest.raises(IllegalTransition):
            row.hand_over(expected=expected(), counted_cash=Decimal("0.00"), note="", at=AT)
        assert row.counted_cash is None

    def test_acknowledge_twice_is_illegal(self):
        row = drawer(SessionStatus.handed_over)
        row.acknowledge(by=uuid.uuid4(), at=AT, note="收到")
        with pytest.raises(IllegalTransition):
            row.acknowledge(by=uuid.uuid4(), at=AT)
        assert row.acknowledge_note == "收到"


class TestDifference:
    def test_exact_cash_needs_no_note(self):
        row = drawer()
        row.hand_over(expected=expected(wechat="45.00"), counted_cash=Decimal("160.56"), note="", at=AT)
        assert row.difference == Decimal("0.00") and row.counted_cash == Decimal("160.56")
        assert row.expected == {"cash": "160.56", "wechat": "45.00"} and row.handed_over_at == AT

    def test_shortfall_with_note_is_recorded_as_it_is(self):
        row = drawer()
        row.hand_over(expected=expected(), counted_cash=Decimal("150.56"), note="少收十元，已查", at=AT)
        assert row.difference == Decimal("-10.00") and row.note == "少收十元，已查"

    @pytest.mark.parametrize("counted,note", [("150.56", ""), ("170.56", "   ")])
    def test_difference_without_note_changes_nothing(self, counted, note):
        row = drawer()
        with pytest.raises(DifferenceNeedsNote) as exc:
            row.hand_over(expected=expected(), counted_cash=Decimal(counted), note=note, at=AT)
        assert exc.value.extra["field"] == "note"
        assert row.status is SessionStatus.open and row.counted_cash is None and row.expected == {}

    def test_no_cash_expected_counts_against_zero(self):
        row = drawer()
        row.hand_over(expected={"wechat": Decimal("80.00")}, counted_cash=Decimal("0.00"), note="", at=AT)
        assert row.difference == Decimal("0.00")

    def test_illegal_state_before_the_missing_note(self):
        row = drawer(SessionStatus.handed_over)
        with pytest.raises(IllegalTransition):
            row.hand_over(expected=expected(), counted_cash=Decimal("1.00"), note="", at=AT)
