"""What clients send to and get from webhook subscriptions and their delivery log."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, HttpUrl, StringConstraints

from app.domain.events.model import DeliveryStatus, EventType
from app.domain.types import InputModel
from app.domain.versions import RowVersion


def _plain_url(value: HttpUrl) -> HttpUrl:
    if value.username or value.password:
        raise ValueError("must not carry credentials; the signature authenticates us")
    if len(str(value)) > 500:
        raise ValueError("must be at most 500 characters")
    return value


Url = Annotated[HttpUrl, AfterValidator(_plain_url)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^\x00]*$")]


class WebhookCreate(InputModel):
    url: Url
    description: Description = ""
    event_types: list[EventType] = Field(default_factory=list, max_length=len(EventType),
                                         description="The events to send; empty means every event")


class WebhookUpdate(InputModel):
    url: Url | None = None
    description: Description | None = None
    event_types: list[EventType] | None = Field(default=None, max_length=len(EventType))
    active: bool | None = Field(default=None, description="true re-enables an endpoint switched off after failing")


class WebhookRead(BaseModel):
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    url: str
    description: str
    event_types: list[EventType]
    active: bool
    disabled_reason: str
    disabled_at: datetime | None
    failure_streak: int
    failing_since: datetime | None
    created_at: datetime


class WebhookWithSecret(WebhookRead):
    secret: str = Field(description="Shown on creation and rotation only: verify PropDesk-Signature with it")


class DeliveryAttemptRead(BaseModel):
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryRead(BaseModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime
    log: list[DeliveryAttemptRead]
