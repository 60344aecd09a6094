"""Attendance (簽到, §7.1, §7.3.16) and the holiday duty roster (值班, §5.1).

Each half-day shift is signed in and signed out once per person and day; the times are the
server's. A sign-in after the estate's deadline (10 minutes before the shift opens: 7:50
for an 8:00 morning) is late; a sign-out before the shift closes is early leave.

    signed_in --sign_out--> signed_out

The duty roster says who is on duty at which estate on which day; the days' holiday status
comes from the company's holiday calendar (app/domain/calendar), not from the table.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, DateTime, Index, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.transitions import TransitionTable


class Shift(StrEnum):
    morning = "morning"
    afternoon = "afternoon"


class AttendanceStatus(StrEnum):
    signed_in = "signed_in"
    signed_out = "signed_out"


A = AttendanceStatus
ATTENDANCE_TRANSITIONS: TransitionTable[AttendanceStatus] = TransitionTable("attendance", {
    (A.signed_in, "sign_out"): A.signed_out,
})


class AttendanceRecord(EstateScoped, table=True):
    __tablename__ = "attendance_record"
    __table_args__ = (
        # One sign-in per person, day and shift, whichever estate it was made at.
        UniqueConstraint("user_id", "day", "shift"),
        Index("ix_attendance_estate_day", "estate_id", "day"),
        CheckConstraint("late_minutes >= 0 AND early_minutes >= 0", name="minutes_not_negative"),
    )

    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    day: date = Field(sa_type=Date)  # estate-local
    shift: Shift = Field(sa_type=String(20))
    status: AttendanceStatus = Field(default=AttendanceStatus.signed_in, sa_type=String(20))
    # The shift as the estate's office hours stood when signing in, so later changes to the
    # hours do not rewrite history.
    due_by: datetime = Field(sa_type=DateTime(timezone=True))  # sign in by this instant
    shift_end: datetime = Field(sa_type=DateTime(timezone=True))
    signed_in_at: datetime = Field(sa_type=DateTime(timezone=True))
    signed_out_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    late: bool = False
    late_minutes: int = 0
    left_early: bool = False
    early_minutes: int = 0
    note: str = Field(default="", max_length=500)

    transitions: ClassVar[TransitionTable[AttendanceStatus]] = ATTENDANCE_TRANSITIONS
    audit_actions: ClassVar[dict[str, str]] = {"sign_out": "attendance.sign_out"}

    def allowed_actions(self) -> list[str]:
        return ATTENDANCE_TRANSITIONS.allowed_actions(AttendanceStatus(self.status))

    def sign_out(self, *, at: datetime, note: str = "") -> None:
        self.status = ATTENDANCE_TRANSITIONS.next_state(AttendanceStatus(self.status), "sign_out")
        self.signed_out_at = at
        early = max(0, int((self.shift_end - at).total_seconds() // 60))
        # Leaving within the shift's last minute is not leaving early.
        self.left_early, self.early_minutes = early > 0, early
        if note:
            self.note = (f"{self.note}\n{note}" if self.note else note)[:500]


class DutyAssignment(EstateScoped, table=True):
    """One person on duty at the estate on one day (holiday duty, §5.1)."""

    __tablename__ = "duty_assignment"
    __table_args__ = (UniqueConstraint("estate_id", "day", "user_id"), Index("ix_duty_estate_day", "estate_id", "day"))

    day: date = Field(sa_type=Date)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    note: str = Field(default="", max_length=200)
    assigned_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
