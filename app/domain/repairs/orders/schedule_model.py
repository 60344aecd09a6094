"""Technicians' time: working hours, bookings, and the reply the desk owes an owner (§7.3.7).

A technician cannot be in two places at once: the booking table carries an exclusion
constraint on (technician, time range) for active bookings, so two receptionists booking
the same slot at the same moment cannot both succeed -- PostgreSQL decides, not Python.
"""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import TSTZRANGE, ExcludeConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped, utcnow
from app.domain.errors import Conflict
from app.domain.transitions import TransitionTable
from app.domain.versions import Versioned

DEFAULT_REPLY_WITHIN = timedelta(minutes=30)


class TechnicianHours(EstateScoped, Versioned, table=True):
    """A technician's own hours in one estate; without a row the estate's office hours apply."""

    __tablename__ = "technician_hours"
    __table_args__ = (
        UniqueConstraint("estate_id", "technician_id"),
        CheckConstraint(
            "morning_open < morning_close AND morning_close <= afternoon_open AND afternoon_open < afternoon_close",
            name="hours_in_order",
        ),
    )

    technician_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    morning_open: time
    morning_close: time
    afternoon_open: time
    afternoon_close: time
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Booking(EstateScoped, table=True):
    """A technician's time held for one work order; inactive once released or cancelled."""

    __tablename__ = "booking"
    __table_args__ = (
        ExcludeConstraint(
            ("technician_id", "="), ("during", "&&"),
            using="gist", where=text("active"), name="booking_no_double_booking",
        ),
        CheckConstraint("NOT isempty(during)", name="during_not_empty"),
        Index("ix_booking_work_order_active", "work_order_id", "active"),
    )

    technician_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    work_order_id: uuid.UUID = Field(foreign_key="work_order.id")
    # A half-open range [start, end): back-to-back jobs (8:00-9:00, 9:00-10:00) do not clash.
    during: Any = Field(sa_column=Column(TSTZRANGE(), nullable=False))
    active: bool = True
    released_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    audit_exclude: ClassVar[frozenset[str]] = frozenset({"during"})  # a range: its ends go in the entry instead

    def release(self, *, at: datetime) -> None:
        """The order no longer needs this time (released, cancelled, re-dispatched): it is free again."""
        if not self.active:
            raise BookingNotActive(booking_id=str(self.id))
        self.active, self.released_at = False, at


class BookingNotActive(Conflict):
    title = "The booking was released already"
    title_zh = "该预约已释放"


class PromiseStatus(StrEnum):
    open = "open"  # the technician has not named a time yet
    confirmed = "confirmed"  # a time is fixed: ring the owner
    told = "told"  # the owner has the confirmed time
    withdrawn = "withdrawn"  # the order was cancelled instead


P = PromiseStatus
PROMISE_TRANSITIONS: TransitionTable[PromiseStatus] = TransitionTable("reply_promise", {
    (P.open, "confirm"): P.confirmed,
    (P.confirmed, "confirm"): P.confirmed,  # re-dispatched to another time before the owner was rung
    (P.confirmed, "tell_owner"): P.told,
    (P.open, "withdraw"): P.withdrawn,
    (P.confirmed, "withdraw"): P.withdrawn,
})


def _reply_due() -> datetime:
    return utcnow() + DEFAULT_REPLY_WITHIN


class ReplyPromise(EstateScoped, table=True):
    """§7.3.7: no technician was free, so the desk promised to ring the owner back.

    Open until the owner has been told the confirmed time (or the order was cancelled).
    """

    __tablename__ = "reply_promise"
    __table_args__ = (
        Index("ix_reply_promise_estate_open", "estate_id", "due_at", postgresql_where=text("closed_at IS NULL")),
    )

    work_order_id: uuid.UUID = Field(foreign_key="work_order.id", index=True)
    technician_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    promised_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    due_at: datetime = Field(default_factory=_reply_due, sa_type=DateTime(timezone=True))
    confirmed_start: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    confirmed_end: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    confirmed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    owner_told_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    owner_told_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    withdrawn_reason: str = Field(default="", max_length=500)  # the order was cancelled instead
    status: PromiseStatus = Field(default=PromiseStatus.open, sa_type=String(20))

    transitions: ClassVar[TransitionTable[PromiseStatus]] = PROMISE_TRANSITIONS
    audit_actions: ClassVar[dict[str, str]] = {"tell_owner": "owner_told"}  # the trail's first name for it

    def _move(self, action: str) -> None:
        self.status = PROMISE_TRANSITIONS.next_state(PromiseStatus(self.status), action)

    def confirm(self, *, technician_id: uuid.UUID | None, start: datetime, end: datetime, at: datetime) -> None:
        self._move("confirm")
        self.confirmed_start, self.confirmed_end, self.confirmed_at = start, end, at
        self.technician_id = technician_id

    def tell_owner(self, *, by: uuid.UUID | None, told_at: datetime, at: datetime) -> None:
        self._move("tell_owner")
        self.owner_told_at, self.owner_told_by, self.closed_at = told_at, by, at

    def withdraw(self, *, reason: str, at: datetime) -> None:
        self._move("withdraw")
        self.closed_at, self.withdrawn_reason = at, reason

    def is_overdue(self, now: datetime) -> bool:
        return self.closed_at is None and now > self.due_at
