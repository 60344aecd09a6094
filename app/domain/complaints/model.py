"""Owners' complaints (業主投訴記錄本) and their disposition form (業主投訴處置單), §4.4.

One transition table for the complaint's life; every verb is a method here:

    registered --assign--> assigned --add_step--> in_progress --resolve--> resolved
    resolved --feedback_satisfied--> closed
    resolved --feedback_not_satisfied--> reopened --assign--> assigned ...
    registered/assigned/in_progress/reopened --escalate--> escalated   (by hand or by the daily job)
    escalated --assign/add_step--> escalated --resolve--> resolved
    any open state --withdraw--> withdrawn

Escalated is a state, not a flag: the CS director holds the complaint until it is resolved,
so the daily job, which escalates only open complaints not escalated yet, is idempotent.
A reopened complaint gets a new deadline from the moment it was reopened.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Invalid
from app.domain.transitions import TransitionTable


class ComplaintStatus(StrEnum):
    registered = "registered"
    assigned = "assigned"
    in_progress = "in_progress"
    escalated = "escalated"  # in the CS director's hands until resolved
    resolved = "resolved"  # waiting for the owner's feedback
    reopened = "reopened"  # the owner was not satisfied
    closed = "closed"  # the owner was satisfied
    withdrawn = "withdrawn"


S = ComplaintStatus
# Unresolved: these count as open and can be overdue.
OPEN_STATES = (S.registered, S.assigned, S.in_progress, S.escalated, S.reopened)


class ComplaintChannel(StrEnum):
    phone = "phone"
    walk_in = "walk_in"
    letter = "letter"
    online = "online"
    other = "other"


class Category(StrEnum):
    service_attitude = "service_attitude"
    repair_quality = "repair_quality"
    repair_delay = "repair_delay"
    fees = "fees"
    security = "security"
    cleaning = "cleaning"
    noise = "noise"
    parking = "parking"
    facilities = "facilities"
    other = "other"


class Severity(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class WindowUnit(StrEnum):
    hours = "hours"  # so many hours after receipt
    days = "days"  # by the end of the n-th estate-local day after the day of receipt


class StepKind(StrEnum):
    step = "step"  # what the handler did
    assigned = "assigned"
    escalated = "escalated"
    resolved = "resolved"
    feedback = "feedback"
    withdrawn = "withdrawn"


COMPLAINT_TRANSITIONS: TransitionTable[ComplaintStatus] = TransitionTable("complaint", {
    (S.registered, "assign"): S.assigned,
    (S.registered, "escalate"): S.escalated,
    (S.registered, "withdraw"): S.withdrawn,
    (S.assigned, "assign"): S.assigned,
    (S.assigned, "add_step"): S.in_progress,
    (S.assigned, "resolve"): S.resolved,
    (S.assigned, "escalate"): S.escalated,
    (S.assigned, "withdraw"): S.withdrawn,
    (S.in_progress, "assign"): S.in_progress,
    (S.in_progress, "add_step"): S.in_progress,
    (S.in_progress, "resolve"): S.resolved,
    (S.in_progress, "escalate"): S.escalated,
    (S.in_progress, "withdraw"): S.withdrawn,
    (S.escalated, "assign"): S.escalated,
    (S.escalated, "add_step"): S.escalated,
    (S.escalated, "resolve"): S.resolved,
    (S.escalated, "withdraw"): S.withdrawn,
    (S.resolved, "feedback_satisfied"): S.closed,
    (S.resolved, "feedback_not_satisfied"): S.reopened,
    (S.reopened, "assign"): S.assigned,
    (S.reopened, "escalate"): S.escalated,
    (S.reopened, "withdraw"): S.withdrawn,
})


@dataclass(frozen=True)
class Window:
    amount: int
    unit: WindowUnit


# What an estate that has set nothing gets: urgent in a day, high 3 days, normal a week, low 15 days.
DEFAULT_WINDOWS: dict[Severity, Window] = {
    Severity.urgent: Window(24, WindowUnit.hours),
    Severity.high: Window(3, WindowUnit.days),
    Severity.normal: Window(7, WindowUnit.days),
    Severity.low: Window(15, WindowUnit.days),
}


def deadline_for(start: datetime, window: Window, tz: ZoneInfo) -> datetime:
    """Hours run from the instant; days end at local midnight, as the office counts days."""
    if window.unit is WindowUnit.hours:
        return start + timedelta(hours=window.amount)
    day = start.astimezone(tz).date() + timedelta(days=window.amount)
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)


class ComplaintNeedsText(Invalid):
    title = "This step of a complaint needs a note saying what was done or why"
    title_zh = "投诉的这一步须填写备注，说明处理情况或原因"


class Complaint(EstateScoped, table=True):
    __table_args__ = (
        UniqueConstraint("estate_id", "number"),
        Index("ix_complaint_estate_status_deadline", "estate_id", "status", "deadline"),
        Index("ix_complaint_estate_received", "estate_id", "received_at"),
        CheckConstraint("reopen_count >= 0", name="reopen_count_not_negative"),
    )

    number: str = Field(max_length=30)  # TS-2026-0001
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="owner.id", index=True)
    unit_id: uuid.UUID | None = Field(default=None, foreign_key="unit.id", index=True)
    service_request_id: uuid.UUID | None = Field(default=None, foreign_key="service_request.id", index=True)
    complainant_name: str = Field(default="", max_length=100)  # when it is not a listed owner, or as they gave it
    contact_phone: str = Field(default="", max_length=60)
    channel: ComplaintChannel = Field(sa_type=String(20))
    category: Category = Field(sa_type=String(30))
    severity: Severity = Field(sa_type=String(10))
    description: str = Field(max_length=4000)
    received_at: datetime = Field(sa_type=DateTime(timezone=True))
    deadline: datetime = Field(sa_type=DateTime(timezone=True))
    status: ComplaintStatus = Field(default=ComplaintStatus.registered, sa_type=String(20))
    registered_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    handler_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)
    assigned_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    escalated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    escalated_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")  # None: the daily job
    escalation_reason: str = Field(default="", max_length=4000)
    resolution: str = Field(default="", max_length=4000)
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    resolved_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    feedback_satisfied: bool | None = Field(default=None, sa_type=Boolean)
    feedback_note: str = Field(default="", max_length=4000)
    feedback_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    reopen_count: int = 0
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    withdrawn_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    withdrawal_reason: str = Field(default="", max_length=4000)

    # --- the verbs -----------------------------------------------------------------------

    transitions: ClassVar[TransitionTable[ComplaintStatus]] = COMPLAINT_TRANSITIONS

    def _move(self, action: str) -> None:
        self.status = COMPLAINT_TRANSITIONS.next_state(ComplaintStatus(self.status), action)

    def allowed_actions(self) -> list[str]:
        return COMPLAINT_TRANSITIONS.allowed_actions(ComplaintStatus(self.status))

    def is_overdue(self, now: datetime) -> bool:
        return ComplaintStatus(self.status) in OPEN_STATES and self.deadline < now

    def _step(self, kind: StepKind, note: str, *, by: uuid.UUID | None, at: datetime,
              done_by: uuid.UUID | None = None) -> ComplaintStep:
        return ComplaintStep(estate_id=self.estate_id, complaint_id=self.id, kind=kind, note=note, done_at=at,
                             done_by=done_by if done_by is not None else by, recorded_by=by)

    def assign(self, *, handler_id: uuid.UUID, note: str, by: uuid.UUID | None, at: datetime) -> ComplaintStep:
        self._move("assign")
        self.handler_id, self.assigned_at = handler_id, at
        return self._step(StepKind.assigned, note, by=by, at=at)

    def add_step(self, *, note: str, done_by: uuid.UUID | None, done_at: datetime, by: uuid.UUID | None) -> ComplaintStep:
        _require(note, "note")
        self._move("add_step")
        return self._step(StepKind.step, note, by=by, at=done_at, done_by=done_by)

    def resolve(self, *, resolution: str, by: uuid.UUID | None, at: datetime) -> ComplaintStep:
        _require(resolution, "resolution")
        self._move("resolve")
        self.resolution, self.resolved_at, self.resolved_by = resolution, at, by
        return self._step(StepKind.resolved, resolution, by=by, at=at)

    def record_feedback(self, *, satisfied: bool, note: str, by: uuid.UUID | None, at: datetime,
                        new_deadline: datetime) -> ComplaintStep:
        """Satisfied closes it; not satisfied reopens it with a fresh deadline."""
        if not satisfied:
            _require(note, "note")
        self._move("feedback_satisfied" if satisfied else "feedback_not_satisfied")
        self.feedback_satisfied, self.feedback_note, self.feedback_at = satisfied, note, at
        if satisfied:
            self.closed_at = at
        else:
            self.reopen_count += 1
            self.deadline = new_deadline
        step = self._step(StepKind.feedback, note, by=by, at=at)
        step.satisfied = satisfied
        return step

    def escalate(self, *, reason: str, by: uuid.UUID | None, at: datetime) -> ComplaintStep:
        _require(reason, "reason")
        self._move("escalate")
        self.escalated_at, self.escalated_by, self.escalation_reason = at, by, reason
        return self._step(StepKind.escalated, reason, by=by, at=at)

    def withdraw(self, *, reason: str, by: uuid.UUID | None, at: datetime) -> ComplaintStep:
        _require(reason, "reason")
        self._move("withdraw")
        self.withdrawn_at, self.withdrawal_reason = at, reason
        return self._step(StepKind.withdrawn, reason, by=by, at=at)


def _require(text: str, field: str) -> None:
    if not text.strip():
        raise ComplaintNeedsText(field=field)


class ComplaintStep(EstateScoped, table=True):
    """One line of the disposition form: who did what, when. Resolutions, feedback and
    escalations are lines too, so the form keeps the history of a reopened complaint."""

    __tablename__ = "complaint_step"
    __table_args__ = (Index("ix_complaint_step_complaint_at", "complaint_id", "done_at"),)

    complaint_id: uuid.UUID = Field(foreign_key="complaint.id")
    kind: StepKind = Field(default=StepKind.step, sa_type=String(20))
    note: str = Field(max_length=4000)
    done_at: datetime = Field(sa_type=DateTime(timezone=True))
    done_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")  # who did it; None: the job
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    satisfied: bool | None = Field(default=None, sa_type=Boolean)  # feedback lines: the owner's answer


class ComplaintDeadline(EstateScoped, table=True):
    """An estate's own time to resolve a complaint of one severity; no row: the default."""

    __tablename__ = "complaint_deadline"
    __table_args__ = (
        UniqueConstraint("estate_id", "severity"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    severity: Severity = Field(sa_type=String(10))
    amount: int
    unit: WindowUnit = Field(sa_type=String(10))
    updated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
