"""What the attention queue answers: items to act on, most urgent first, and counts for a wall board."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class AttentionUrgency(StrEnum):
    overdue = "overdue"
    due_soon = "due_soon"  # within the next 24 hours
    later = "later"


class AttentionItem(BaseModel):
    kind: str = Field(description="What it is: reply_promise, callback_due, cash_handover …")
    rule: str = Field(description="Why it is here, as the procedure says it")
    estate_id: uuid.UUID
    title: str
    deadline: datetime | None
    urgency: AttentionUrgency
    entity: str
    entity_id: str
    number: str | None = Field(default=None, description="The work order's number (QS-WX-2026-000123) when it concerns one")
    link: str = Field(description="The API path of the record to act on")


class AttentionQueue(BaseModel):
    generated_at: datetime
    items: list[AttentionItem]
    counts: dict[str, int] = Field(description="Per kind, all of them (items may be capped per kind)")
    overdue: int


class WallBoard(BaseModel):
    """An estate's open items of every kind, whoever must act: for the screen on the office wall."""

    estate_id: uuid.UUID
    generated_at: datetime
    counts: dict[str, int]
    overdue: dict[str, int]
