"""Notes for the callback (回訪備註): what the technician saw that the desk should know when it rings the owner."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index
from sqlmodel import Field

from app.domain.base import EstateScoped


class WorkOrderNote(EstateScoped, table=True):
    """Written once by the order's technician, never changed: "the owner is away until the 20th",
    "the valve is old; it will leak again"."""

    __tablename__ = "work_order_note"
    __table_args__ = (Index("ix_work_order_note_order_noted", "work_order_id", "noted_at"),)

    work_order_id: uuid.UUID = Field(foreign_key="work_order.id")
    author_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    text: str = Field(max_length=2000)
    noted_at: datetime = Field(sa_type=DateTime(timezone=True))  # when the server got it
    noted_on_device_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # when the phone says it was written
