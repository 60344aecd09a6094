"""Technicians' time: working hours, bookings, and the reply the desk owes an owner (§7.3.7).

A technician cannot be in two places at once: the booking table carries an exclusion
constraint on (technician, time range) for active bookings, so two receptionists booking
the same slot at the same moment cannot both succeed -- PostgreSQL decides, not Python.
"""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import CheckConstraint, Column, DateTime, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import TSTZRANGE, ExcludeConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped, utcnow

DEFAULT_REPLY_WITHIN = timedelta(minutes=30)


class TechnicianHours(EstateScoped, table=True):
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

    def is_overdue(self, now: datetime) -> bool:
        return self.closed_at is None and now > self.due_at
