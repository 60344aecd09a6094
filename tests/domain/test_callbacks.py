"""Pure rules of a callback: its transition table, due time, rate arithmetic and periods (no database)."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.domain.calendar.estate_time import week_monday
from app.domain.callbacks.model import (
    CALLBACK_TRANSITIONS,
    AttemptResult,
    Callback,
    CallbackOutcome,
    CallbackStatus,
    ProblemNeedsNote,
    ScoreOutOfRange,
)
from app.domain.callbacks.rates import Counts, period_of
from app.domain.callbacks.schemas import RatePeriod
from app.domain.errors import IllegalTransition
from app.domain.repairs.model import WorkOrder, WorkOrderStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
ME = uuid.uuid4()


def callback(status: CallbackStatus = CallbackStatus.open) -> Callback:
    order = WorkOrder(estate_id=uuid.uuid4(), request_id=uuid.uuid4(), category="plumbing", status=WorkOrderStatus.completed,
                      technician_id=uuid.uuid4(), completed_at=datetime(2026, 11, 22, 15, 30, tzinfo=UTC))
    cb = Callback.for_completed_order(order, tz=SHANGHAI)
    cb.status = status
    return cb


class TestDueTime:
    def test_due_at_end_of_seventh_local_day(self):
        cb = callback()  # completed Sunday 23:30 in Shanghai
        assert cb.due_at == datetime(2026, 11, 29, 23, 59, 59, tzinfo=SHANGHAI)
        assert cb.technician_id is not None and cb.round == 1

    def test_is_overdue_only_when_open_and_past_due(self):
        cb = callback()
        late = datetime(2026, 11, 29, 16, 0, 0, tzinfo=UTC)  # Monday 00:00 in Shanghai
        assert cb.is_overdue(late) and not cb.is_overdue(datetime(2026, 11, 29, 15, 59, 0, tzinfo=UTC))
        cb.record_satisfied(score=5, note="", by=ME, at=late)
        assert not cb.is_overdue(late)


class TestTransitions:
    def test_attempts_keep_it_open_and_count(self):
        cb = callback()
        a = cb.log_attempt(result=AttemptResult.no_answer, note="", call_again_at=None, by=ME, at=AT)
        cb.log_attempt(result=AttemptResult.owner_busy, note="下午再打", call_again_at=AT, by=ME, at=AT)
        assert (cb.status, cb.attempts, cb.last_attempt_result, cb.call_again_at) == (CallbackStatus.open, 2, AttemptResult.owner_busy, AT)
        assert a.callback_id == cb.id and a.result == AttemptResult.no_answer

    def test_satisfied(self):
        cb = callback()
        cb.record_satisfied(score=4, note="很好", by=ME, at=AT)
        assert (cb.status, cb.outcome, cb.score, cb.done_at, cb.done_by) == (CallbackStatus.done, CallbackOutcome.satisfied, 4, AT, ME)

    @pytest.mark.parametrize("score", [0, 6, -1])
    def test_score_out_of_range(self, score):
        cb = callback()
        with pytest.raises(ScoreOutOfRange):
            cb.record_satisfied(score=score, note="", by=ME, at=AT)
        assert cb.status == CallbackStatus.open

    def test_problem_reopen_and_escalate_need_a_note(self):
        for verb in ("record_problem_reopen", "escalate"):
            cb = callback()
            with pytest.raises(ProblemNeedsNote):
                getattr(cb, verb)(note="  ", by=ME, at=AT)
            assert cb.status == CallbackStatus.open

    def test_escalate_then_resolve(self):
        cb = callback()
        cb.escalate(note="還在漏", by=ME, at=AT)
        assert (cb.status, cb.outcome, cb.escalated_at, cb.done_at) == (CallbackStatus.escalated, CallbackOutcome.problem, AT, AT)
        cb.resolve(resolution="換整個龍頭", reopen=True, by=ME, at=AT)
        assert (cb.status, cb.resolution_reopened, cb.resolved_by) == (CallbackStatus.resolved, True, ME)

    @pytest.mark.parametrize("status,verb,kwargs", [
        (CallbackStatus.done, "record_satisfied", dict(score=5, note="")),
        (CallbackStatus.done, "log_attempt", dict(result=AttemptResult.no_answer, note="", call_again_at=None)),
        (CallbackStatus.escalated, "record_satisfied", dict(score=5, note="")),
        (CallbackStatus.escalated, "escalate", dict(note="x")),
        (CallbackStatus.open, "resolve", dict(resolution="x", reopen=False)),
        (CallbackStatus.resolved, "resolve", dict(resolution="x", reopen=False)),
        (CallbackStatus.resolved, "record_problem_reopen", dict(note="x")),
    ])
    def test_illegal(self, status, verb, kwargs):
        cb = callback(status)
        with pytest.raises(IllegalTransition) as err:
            getattr(cb, verb)(**kwargs, by=ME, at=AT)
        assert err.value.extra["current_state"] == status.value
        assert cb.status == status

    def test_overdue_flag_set_once(self):
        cb = callback()
        assert cb.mark_overdue(at=AT) is True
        assert cb.mark_overdue(at=datetime(2026, 12, 1, tzinfo=UTC)) is False
        assert cb.overdue_at == AT

    def test_table_has_no_way_out_of_done(self):
        assert CALLBACK_TRANSITIONS.allowed_actions(CallbackStatus.done) == []
        assert CALLBACK_TRANSITIONS.allowed_actions(CallbackStatus.escalated) == ["resolve"]


class TestRateArithmetic:
    @pytest.mark.parametrize("completed,done,rate,needed", [
        (10, 6, Decimal("0.6000"), 0),
        (10, 5, Decimal("0.5000"), 1),
        (3, 1, Decimal("0.3333"), 1),  # ceil(1.8) = 2
        (7, 0, Decimal("0.0000"), 5),  # ceil(4.2) = 5
        (2, 2, Decimal("1.0000"), 0),
        (0, 0, None, 0),
    ])
    def test_rate_and_needed(self, completed, done, rate, needed):
        c = Counts(completed=completed, done_within_7_days=done, done_late=0, pending=0)
        assert (c.rate, c.needed) == (rate, needed)

    def test_two_thirds_rounds_half_up(self):
        assert Counts(3, 2, 0, 0).rate == Decimal("0.6667")


class TestPeriods:
    def test_iso_week_from_monday(self):
        assert period_of(RatePeriod.week, date(2026, 11, 29)) == ("2026-W48", date(2026, 11, 23), date(2026, 11, 30))
        assert period_of(RatePeriod.week, date(2026, 11, 30))[0] == "2026-W49"
        assert week_monday("2026-W48") == date(2026, 11, 23)

    def test_iso_week_across_the_year(self):
        assert period_of(RatePeriod.week, date(2027, 1, 1)) == ("2026-W53", date(2026, 12, 28), date(2027, 1, 4))

    def test_month(self):
        assert period_of(RatePeriod.month, date(2026, 12, 15)) == ("2026-12", date(2026, 12, 1), date(2027, 1, 1))
        assert period_of(RatePeriod.month, date(2026, 2, 28)) == ("2026-02", date(2026, 2, 1), date(2026, 3, 1))
