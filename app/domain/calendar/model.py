"""The company's holiday calendar (§5.1): statutory holidays and adjusted working days by date.

One row per company and date the State Council's notice names. A year with any row is
"entered" and answered by its rows alone (see days.py); a year with none falls back to the
libraries. Rows are written by admins, or copied from chinese_calendar the first time a
single day of a year it knows is changed, so that the change amends that year's schedule.
"""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import Entity
from app.domain.calendar.days import DayKind


class HolidayCalendarDay(Entity, table=True):
    __tablename__ = "holiday_calendar_day"
    __table_args__ = (
        # Also the index of "the company's days of a year" (a range on day).
        UniqueConstraint("company_id", "day"),
        CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),
        # An adjusted working day is a Saturday or Sunday (ISO day of week 6, 7).
        CheckConstraint("kind = 'holiday' OR extract(isodow FROM day) >= 6", name="workday_on_weekend"),
    )

    company_id: uuid.UUID = Field(foreign_key="company.id", nullable=False)
    day: date = Field(sa_type=Date)
    kind: DayKind = Field(sa_type=String(20))
    name: str = Field(max_length=40)
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
