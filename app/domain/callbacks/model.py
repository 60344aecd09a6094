"""Callbacks (回訪, §7.3.9): every completed repair is called back within 7 days.

One callback per completion round of a work order: a reopened and re-completed order
gets a second one. The callback's life is its own transition table; the work order's
resulting move (close_callback or reopen) is made by the service through
`app.domain.audit.service.apply`.

    open --log_attempt--> open              (no answer, wrong number, owner busy)
    open --mark_overdue--> open             (the daily job flags it once)
    open --record_satisfied--> done         (score 1-5; the order's callback is closed)
    open --record_problem_reopen--> done    (outcome problem; the order is reopened)
    open --escalate--> escalated            (outcome problem; the CS director decides)
    escalated --resolve--> resolved         (the order is reopened or its callback closed)

`done_at` is when the owner was reached and the outcome recorded, whichever outcome: an
escalated callback WAS made, so it counts toward the callback rate like a done one.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Invalid
from app.domain.events.model import EventType
from app.domain.repairs.model import WorkOrder
from app.domain.transitions import TransitionTable

CALLBACK_WITHIN = timedelta(days=7)
RATE_TARGET = Decimal("0.60")  # §6.4: callback rate >= 60%


class CallbackStatus(StrEnum):
    open = "open"
    done = "done"  # the owner was reached and the outcome recorded
    escalated = "escalated"  # waiting for the CS director's resolution
    resolved = "resolved"  # the CS director recorded a resolution
    cancelled = "cancelled"  # kept for rows that no longer need a call; no verb leads here yet


# The owner was reached in these states: they count toward the callback rate.
REACHED_STATES = (CallbackStatus.done, CallbackStatus.escalated, CallbackStatus.resolved)


class CallbackOutcome(StrEnum):
    satisfied = "satisfied"
    problem = "problem"


class AttemptResult(StrEnum):
    no_answer = "no_answer"
    wrong_number = "wrong_number"
    owner_busy = "owner_busy"  # call later


C = CallbackStatus
CALLBACK_TRANSITIONS: TransitionTable[CallbackStatus] = TransitionTable("callback", {
    (C.open, "log_attempt"): C.open,
    (C.open, "mark_overdue"): C.open,
    (C.open, "record_satisfied"): C.done,
    (C.open, "record_problem_reopen"): C.done,
    (C.open, "escalate"): C.escalated,
    (C.escalated, "resolve"): C.resolved,
})


class ScoreOutOfRange(Invalid):
    title = "The satisfaction score is 1 to 5"
    title_zh = "满意度评分为 1 到 5"


class ProblemNeedsNote(Invalid):
    title = "A problem found on a callback needs a note saying what it is"
    title_zh = "回访发现问题时须填写备注说明问题"


class Callback(EstateScoped, table=True):
    __table_args__ = (
        UniqueConstraint("work_order_id", "round"),
        Index("ix_callback_estate_due", "estate_id", "status", "due_at"),
        Index("ix_callback_estate_completed", "estate_id", "completed_at"),
        CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="score_1_to_5"),
    )

    work_order_id: uuid.UUID = Field(foreign_key="work_order.id", index=True)
    round: int = 1
    # The technician of this round: a reopened order is dispatched afresh, maybe to someone else.
    technician_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)
    completed_at: datetime = Field(sa_type=DateTime(timezone=True))  # of the order, this round
    due_at: datetime = Field(sa_type=DateTime(timezone=True))
    status: CallbackStatus = Field(default=CallbackStatus.open, sa_type=String(20))
    done_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    done_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    overdue_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # when the job flagged it
    outcome: CallbackOutcome | None = Field(default=None, sa_type=String(20))
    score: int | None = None
    note: str = Field(default="", max_length=4000)  # what the owner said; the problem when there is one
    escalated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolution: str = Field(default="", max_length=4000)
    resolution_reopened: bool | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolved_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # The latest failed attempt, kept here so the worklist needs no aggregate per row.
    attempts: int = 0
    last_attempt_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_attempt_result: AttemptResult | None = Field(default=None, sa_type=String(20))
    call_again_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    transitions: ClassVar[TransitionTable[CallbackStatus]] = CALLBACK_TRANSITIONS
    audit_actions: ClassVar[dict[str, str]] = {"mark_overdue": "callback.overdue"}
    verb_events: ClassVar[dict[str, EventType]] = {
        "record_satisfied": EventType.callback_done, "record_problem_reopen": EventType.callback_done,
        "mark_overdue": EventType.deadline_missed}

    def event_data(self, action: str) -> dict[str, Any]:
        if action == "mark_overdue":
            return {"deadline": "callback", "due_at": self.due_at, "work_order_id": self.work_order_id}
        return {"work_order_id": self.work_order_id, "done_at": self.done_at}

    @classmethod
    def for_completed_order(cls, order: WorkOrder, *, tz: ZoneInfo, round: int = 1) -> Callback:
        """Due by the end of the 7th local day after completion, in the estate's time zone."""
        assert order.completed_at is not None
        local = order.completed_at.astimezone(tz)
        due_day = (local + CALLBACK_WITHIN).date()
        due = datetime.combine(due_day, datetime.max.time(), tzinfo=tz).replace(microsecond=0)
        return cls(estate_id=order.estate_id, work_order_id=order.id, round=round, technician_id=order.technician_id,
                   completed_at=order.completed_at, due_at=due)

    # --- the verbs -----------------------------------------------------------------------

    def _move(self, action: str) -> None:
        self.status = CALLBACK_TRANSITIONS.next_state(CallbackStatus(self.status), action)

    def allowed_actions(self) -> list[str]:
        return CALLBACK_TRANSITIONS.allowed_actions(CallbackStatus(self.status))

    def is_overdue(self, now: datetime) -> bool:
        return CallbackStatus(self.status) == C.open and self.due_at < now

    def log_attempt(self, *, result: AttemptResult, note: str, call_again_at: datetime | None, by: uuid.UUID | None,
                    at: datetime) -> CallbackAttempt:
        self._move("log_attempt")
        self.attempts += 1
        self.last_attempt_at, self.last_attempt_result, self.call_again_at = at, AttemptResult(result), call_again_at
        return CallbackAttempt(estate_id=self.estate_id, callback_id=self.id, at=at, by=by, result=AttemptResult(result),
                               note=note, call_again_at=call_again_at)

    def mark_overdue(self, *, at: datetime) -> bool:
        """Flag once; False when it was flagged already (the job may see it again tomorrow)."""
        self._move("mark_overdue")
        if self.overdue_at is not None:
            return False
        self.overdue_at = at
        return True

    def record_satisfied(self, *, score: int, note: str, by: uuid.UUID | None, at: datetime) -> None:
        if not 1 <= score <= 5:
            raise ScoreOutOfRange(field="score")
        self._move("record_satisfied")
        self._reached(CallbackOutcome.satisfied, note=note, by=by, at=at)
        self.score = score

    def record_problem_reopen(self, *, note: str, by: uuid.UUID | None, at: datetime) -> None:
        self._require_note(note)
        self._move("record_problem_reopen")
        self._reached(CallbackOutcome.problem, note=note, by=by, at=at)

    def escalate(self, *, note: str, by: uuid.UUID | None, at: datetime) -> None:
        self._require_note(note)
        self._move("escalate")
        self._reached(CallbackOutcome.problem, note=note, by=by, at=at)
        self.escalated_at = at

    def resolve(self, *, resolution: str, reopen: bool, by: uuid.UUID | None, at: datetime) -> None:
        if not resolution.strip():
            raise ProblemNeedsNote(field="resolution")
        self._move("resolve")
        self.resolution, self.resolution_reopened, self.resolved_at, self.resolved_by = resolution, reopen, at, by

    def _reached(self, outcome: CallbackOutcome, *, note: str, by: uuid.UUID | None, at: datetime) -> None:
        self.outcome, self.note, self.done_at, self.done_by = outcome, note, at, by
        self.call_again_at = None

    @staticmethod
    def _require_note(note: str) -> None:
        if not note.strip():
            raise ProblemNeedsNote(field="note")


class CallbackAttempt(EstateScoped, table=True):
    """A call that did not reach the owner; the callback stays open."""

    __tablename__ = "callback_attempt"
    __table_args__ = (Index("ix_callback_attempt_callback_at", "callback_id", "at"),)

    callback_id: uuid.UUID = Field(foreign_key="callback.id")
    at: datetime = Field(sa_type=DateTime(timezone=True))
    by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    result: AttemptResult = Field(sa_type=String(20))
    note: str = Field(default="", max_length=4000)
    call_again_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class CallbackRateRecord(EstateScoped, table=True):
    """The weekly job's record of an ISO week's callback rate (§6.4)."""

    __tablename__ = "callback_rate_record"
    __table_args__ = (UniqueConstraint("estate_id", "week"),)

    week: str = Field(max_length=8)  # ISO week, 2026-W48
    completed: int = 0
    done_within_7_days: int = 0
    # Callbacks of the week still inside their 7 days when the record was taken.
    pending: int = 0
    rate: Decimal | None = Field(default=None, sa_type=Numeric(5, 4))
    below_target: bool = False
