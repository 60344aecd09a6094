"""The complaint's transition table and deadlines, without a database."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.complaints.model import (
    COMPLAINT_TRANSITIONS,
    Category,
    Complaint,
    ComplaintChannel,
    ComplaintNeedsText,
    ComplaintStatus,
    Severity,
    StepKind,
    Window,
    WindowUnit,
    deadline_for,
)
from app.domain.errors import IllegalTransition

S = ComplaintStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ME = uuid.uuid4()


def complaint(status: S = S.registered) -> Complaint:
    return Complaint(estate_id=uuid.uuid4(), number="TS-2026-0001", channel=ComplaintChannel.phone, category=Category.noise,
                     severity=Severity.normal, description="樓上深夜噪音", received_at=NOW,
                     deadline=NOW + timedelta(days=7), status=status)


class TestDeadline:
    def test_hours_run_from_the_instant(self):
        assert deadline_for(NOW, Window(24, WindowUnit.hours), SHANGHAI) == NOW + timedelta(hours=24)

    def test_days_end_at_local_midnight(self):
        # Received 23:30 on 20 Nov in Shanghai (15:30 UTC): 3 days is the end of 23 Nov, Shanghai time.
        late = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
        assert deadline_for(late, Window(3, WindowUnit.days), SHANGHAI) == datetime(2026, 11, 23, 23, 59, 59, tzinfo=SHANGHAI)
        # The same instant in New York is still the 20th in the morning.
        ny = ZoneInfo("America/New_York")
        assert deadline_for(late, Window(3, WindowUnit.days), ny) == datetime(2026, 11, 23, 23, 59, 59, tzinfo=ny)
        # 04:00 UTC on the 21st is still the 20th in New York, already the 21st in Shanghai.
        edge = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)
        assert deadline_for(edge, Window(3, WindowUnit.days), ny).day == 23
        assert deadline_for(edge, Window(3, WindowUnit.days), SHANGHAI).day == 24


class TestTransitions:
    def test_happy_path_to_closed(self):
        c = complaint()
        handler = uuid.uuid4()
        assert c.assign(handler_id=handler, note="", by=ME, at=NOW).kind == StepKind.assigned
        assert (c.status, c.handler_id) == (S.assigned, handler)
        step = c.add_step(note="上門了解情況", done_by=handler, done_at=NOW, by=ME)
        assert (c.status, step.done_by, step.recorded_by) == (S.in_progress, handler, ME)
        c.resolve(resolution="已協調樓上業主", by=ME, at=NOW)
        assert (c.status, c.resolved_at) == (S.resolved, NOW)
        line = c.record_feedback(satisfied=True, note="", by=ME, at=NOW, new_deadline=NOW)
        assert (c.status, c.closed_at, c.feedback_satisfied, line.satisfied) == (S.closed, NOW, True, True)
        assert c.allowed_actions() == []

    def test_not_satisfied_reopens_with_new_deadline(self):
        c = complaint(S.resolved)
        later = NOW + timedelta(days=10)
        c.record_feedback(satisfied=False, note="還是很吵", by=ME, at=NOW, new_deadline=later)
        assert (c.status, c.deadline, c.reopen_count, c.feedback_satisfied) == (S.reopened, later, 1, False)
        assert c.allowed_actions() == ["assign", "escalate", "withdraw"]

    def test_not_satisfied_needs_a_note(self):
        c = complaint(S.resolved)
        with pytest.raises(ComplaintNeedsText):
            c.record_feedback(satisfied=False, note=" ", by=ME, at=NOW, new_deadline=NOW)
        assert c.status == S.resolved

    @pytest.mark.parametrize(("status", "action"), [
        (S.registered, "add_step"), (S.registered, "resolve"), (S.resolved, "escalate"), (S.escalated, "escalate"),
        (S.closed, "assign"), (S.withdrawn, "resolve"), (S.reopened, "add_step"), (S.in_progress, "feedback_satisfied"),
    ])
    def test_illegal(self, status, action):
        with pytest.raises(IllegalTransition):
            COMPLAINT_TRANSITIONS.next_state(status, action)

    def test_escalated_stays_with_the_director_until_resolved(self):
        c = complaint(S.in_progress)
        c.escalate(reason="Overdue", by=None, at=NOW)
        assert (c.status, c.escalated_by, c.escalated_at) == (S.escalated, None, NOW)
        c.assign(handler_id=uuid.uuid4(), note="", by=ME, at=NOW)
        c.add_step(note="主任約談", done_by=ME, done_at=NOW, by=ME)
        assert c.status == S.escalated
        c.resolve(resolution="賠償", by=ME, at=NOW)
        assert c.status == S.resolved

    def test_verbs_refuse_blank_text_before_moving(self):
        c = complaint(S.assigned)
        for verb in (lambda: c.add_step(note="", done_by=ME, done_at=NOW, by=ME), lambda: c.resolve(resolution=" ", by=ME, at=NOW),
                     lambda: c.escalate(reason="", by=ME, at=NOW), lambda: c.withdraw(reason="", by=ME, at=NOW)):
            with pytest.raises(ComplaintNeedsText):
                verb()
        assert c.status == S.assigned

    def test_overdue_only_while_open(self):
        c = complaint(S.in_progress)
        assert c.is_overdue(NOW + timedelta(days=8)) and not c.is_overdue(NOW)
        c.status = S.resolved
        assert not c.is_overdue(NOW + timedelta(days=8))
