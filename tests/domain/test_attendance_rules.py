"""The pure rules: shift times, lateness, early leave, the entrustment table."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.domain.attendance import rules
from app.domain.attendance.model import AttendanceRecord, AttendanceStatus, Shift
from app.domain.attendance.rules import OfficeHours
from app.domain.errors import IllegalTransition
from app.domain.rentals.model import ReasonRequired, RentalEntrustment, RentalStatus

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 5, 12)  # a Tuesday
HOURS = OfficeHours()


def at(h: int, m: int, s: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(h, m, s), tzinfo=SH)


class TestShifts:
    def test_default_hours_deadlines_are_750_and_1350(self):
        morning = rules.shift_times(HOURS, Shift.morning, DAY, SH)
        afternoon = rules.shift_times(HOURS, Shift.afternoon, DAY, SH)
        assert (morning.due_by, morning.closes) == (at(7, 50), at(12, 0))
        assert (afternoon.due_by, afternoon.closes) == (at(13, 50), at(18, 0))

    def test_estate_hours_move_the_deadline(self):
        hours = OfficeHours(morning_open=time(8, 30), morning_close=time(12, 0), afternoon_open=time(13, 30),
                            afternoon_close=time(17, 30))
        assert rules.shift_times(hours, Shift.morning, DAY, SH).due_by == at(8, 20)
        assert rules.shift_times(hours, Shift.afternoon, DAY, SH).closes == at(17, 30)

    @pytest.mark.parametrize(("local", "shift"), [((6, 30), Shift.morning), ((11, 59), Shift.morning),
                                                  ((12, 0), Shift.afternoon), ((13, 55), Shift.afternoon)])
    def test_current_shift(self, local, shift):
        assert rules.current_shift(HOURS, at(*local)) == shift

    @pytest.mark.parametrize(("signed", "late"), [((7, 30, 0), 0), ((7, 50, 0), 0), ((7, 50, 1), 1), ((7, 51, 0), 1),
                                                  ((8, 5, 0), 15), ((11, 0, 0), 190)])
    def test_minutes_late(self, signed, late):
        assert rules.minutes_late(rules.shift_times(HOURS, Shift.morning, DAY, SH), at(*signed)) == late

    def test_sign_in_window(self):
        morning = rules.shift_times(HOURS, Shift.morning, DAY, SH)
        rules.check_sign_in(morning, at(6, 0))
        rules.check_sign_in(morning, at(11, 59))
        with pytest.raises(rules.TooEarlyToSignIn):
            rules.check_sign_in(morning, at(5, 59))
        with pytest.raises(rules.ShiftOver):
            rules.check_sign_in(morning, at(12, 0))


def _record(shift: Shift = Shift.afternoon) -> AttendanceRecord:
    times = rules.shift_times(HOURS, shift, DAY, SH)
    return AttendanceRecord(estate_id=None, user_id=None, day=DAY, shift=shift, due_by=times.due_by, shift_end=times.closes,
                            signed_in_at=at(13, 45))


class TestSignOut:
    def test_after_close_is_not_early(self):
        row = _record()
        row.sign_out(at=at(18, 2))
        assert (row.status, row.left_early, row.early_minutes) == (AttendanceStatus.signed_out, False, 0)

    def test_in_the_last_minute_is_not_early(self):
        row = _record()
        row.sign_out(at=at(17, 59, 30))
        assert row.left_early is False

    def test_before_close_is_early_with_minutes(self):
        row = _record()
        row.sign_out(at=at(17, 20), note="看病")
        assert (row.left_early, row.early_minutes, row.note) == (True, 40, "看病")

    def test_twice_is_illegal(self):
        row = _record()
        row.sign_out(at=at(18, 0))
        with pytest.raises(IllegalTransition):
            row.sign_out(at=at(18, 5))
        assert row.allowed_actions() == []


def _entrustment() -> RentalEntrustment:
    return RentalEntrustment(estate_id=None, unit_id=None, owner_id=None, asking_rent=Decimal("3200.00"), bedrooms=2,
                             available_from=DAY)


class TestEntrustmentTable:
    def test_open_reserved_let(self):
        e = _entrustment()
        assert e.allowed_actions() == ["edit", "reserve", "withdraw"]
        e.reserve(reserved_for="張先生", at=at(10, 0))
        assert e.allowed_actions() == ["edit", "let", "release", "withdraw"]
        e.let(agreed_rent=None, at=at(11, 0))
        assert (e.status, e.agreed_rent, e.closed_at) == (RentalStatus.let, Decimal("3200.00"), at(11, 0))
        assert e.allowed_actions() == []

    def test_release_puts_it_back_on_offer(self):
        e = _entrustment()
        e.reserve(reserved_for="張先生", at=at(10, 0))
        e.release(reason="租客改變主意", at=at(12, 0))
        assert (e.status, e.reserved_for, e.reserved_at) == (RentalStatus.open, "", None)

    @pytest.mark.parametrize("first", ["open", "reserved"])
    def test_withdraw_from_either(self, first):
        e = _entrustment()
        if first == "reserved":
            e.reserve(reserved_for="x", at=at(10, 0))
        e.withdraw(reason="業主自住", at=at(12, 0))
        assert e.status == RentalStatus.withdrawn
        with pytest.raises(IllegalTransition):
            e.edit({"asking_rent": Decimal("1")}, at=at(13, 0))

    def test_illegal_moves(self):
        e = _entrustment()
        with pytest.raises(IllegalTransition):
            e.let(agreed_rent=None, at=at(10, 0))  # open -> let skips the reservation
        with pytest.raises(IllegalTransition):
            e.release(reason="x", at=at(10, 0))
        with pytest.raises(ReasonRequired):
            e.withdraw(reason="  ", at=at(10, 0))
        assert e.status == RentalStatus.open
