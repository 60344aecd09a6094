"""What clients send to and get from owner notifications and their templates."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from app.domain.events.model import EventType
from app.domain.notifications.model import NotificationStatus
from app.domain.types import InputModel
from app.domain.versions import RowVersion


class TemplateUpdate(InputModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=r"^[^\x00]*$")] | None = None


class TemplateRead(BaseModel):
    event_type: EventType
    version: RowVersion
    text: str
    is_default: bool
    placeholders: list[str]


class NotificationRead(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: EventType
    owner_id: uuid.UUID
    unit_id: uuid.UUID | None
    phone: str
    text: str
    status: NotificationStatus
    gateway: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str
    created_at: datetime
