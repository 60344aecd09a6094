"""What each estate configures about repairs: its repair categories and its phone-script wording."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.versions import Versioned


class RepairCategory(EstateScoped, Versioned, table=True):
    """水暖, 電氣, 門窗 ...: requests and orders keep the code, the desk sees the name."""

    __tablename__ = "repair_category"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    active: bool = True
    sort: int = 0


class ScriptKey(StrEnum):
    greeting = "greeting"  # §7.3.3
    confirmation = "confirmation"  # §7.3.5, the read-back
    closing = "closing"  # §7.3.6
    technician_busy = "technician_busy"  # §7.3.7


class ScriptTemplate(EstateScoped, Versioned, table=True):
    """An estate's own wording of one phone script; absent rows mean the default wording."""

    __tablename__ = "script_template"
    __table_args__ = (UniqueConstraint("estate_id", "key"),)
    key: ScriptKey = Field(sa_type=String(20))
    text: str = Field(max_length=1000)
    updated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
