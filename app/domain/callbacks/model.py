"""Callbacks (回訪, §7.3.9): every completed repair is called back within 7 days.

One callback per completion round of a work order: a reopened and re-completed order
gets a second one.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Index, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.repairs.model import WorkOrder

CALLBACK_WITHIN = timedelta(days=7)


class CallbackStatus(str, Enum):
    open = "open"
    done = "done"  # the owner was reached and the outcome recorded
    escalated = "escalated"  # waiting for the CS director's resolution
    resolved = "resolved"  # the CS director recorded a resolution
    cancelled = "cancelled"  # the order was reopened and will be called back again


class Callback(EstateScoped, table=True):
    __table_args__ = (
        UniqueConstraint("work_order_id", "round"),
        Index("ix_callback_estate_due", "estate_id", "status", "due_at"),
    )

    work_order_id: uuid.UUID = Field(foreign_key="work_order.id", index=True)
    round: int = 1
    completed_at: datetime = Field(sa_type=DateTime(timezone=True))  # of the order, this round
    due_at: datetime = Field(sa_type=DateTime(timezone=True))
    status: CallbackStatus = Field(default=CallbackStatus.open, sa_type=String(20))
    done_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    done_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    overdue_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # when the job flagged it

    @classmethod
    def for_completed_order(cls, order: WorkOrder, *, tz: ZoneInfo, round: int = 1) -> Callback:
        """Due by the end of the 7th local day after completion, in the estate's time zone."""
        assert order.completed_at is not None
        local = order.completed_at.astimezone(tz)
        due_day = (local + CALLBACK_WITHIN).date()
        due = datetime.combine(due_day, datetime.max.time(), tzinfo=tz).replace(microsecond=0)
        return cls(estate_id=order.estate_id, work_order_id=order.id, round=round,
                   completed_at=order.completed_at, due_at=due)
