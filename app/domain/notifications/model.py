"""Messages to owners (SMS / WeChat) about their repair and their payment, and their templates.

A notification is written with the event that causes it, in the same transaction, and sent
afterwards by the dispatcher through the configured gateway; it is retried like a webhook.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import DateTime, Index, String, UniqueConstraint, text
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.transitions import TransitionTable
from app.domain.versions import Versioned


class NotificationStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after the retry window


NOTIFICATION_TRANSITIONS: TransitionTable[NotificationStatus] = TransitionTable("owner_notification", {
    (NotificationStatus.pending, "sent"): NotificationStatus.sent,
    (NotificationStatus.pending, "retry"): NotificationStatus.pending,
    (NotificationStatus.pending, "give_up"): NotificationStatus.failed,
})


class NotificationTemplate(EstateScoped, Versioned, table=True):
    """An estate's own wording for one event; without one the default wording is used."""

    __tablename__ = "notification_template"
    __table_args__ = (UniqueConstraint("estate_id", "event_type"),)

    event_type: str = Field(max_length=40)
    text: str = Field(max_length=500)


class OwnerNotification(EstateScoped, table=True):
    __tablename__ = "owner_notification"
    __table_args__ = (Index("ix_owner_notification_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),)

    event_id: uuid.UUID = Field(foreign_key="outbox_event.id", index=True)
    event_type: str = Field(max_length=40)
    owner_id: uuid.UUID = Field(foreign_key="owner.id", index=True)
    unit_id: uuid.UUID | None = Field(default=None, foreign_key="unit.id")
    phone: str = Field(max_length=20)
    text: str = Field(max_length=1000)
    # The text with its secret words hidden (the owner's code), for the log staff read; once the
    # message is sent or given up, `text` becomes this too, so the code does not stay at rest.
    text_shown: str | None = Field(default=None, max_length=1000)
    status: NotificationStatus = Field(default=NotificationStatus.pending, sa_type=String(20))
    gateway: str = Field(default="", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_error: str = Field(default="", max_length=500)

    transitions: ClassVar[TransitionTable[NotificationStatus]] = NOTIFICATION_TRANSITIONS

    def move(self, action: str) -> None:
        self.status = NOTIFICATION_TRANSITIONS.next_state(NotificationStatus(self.status), action)
        if self.status != NotificationStatus.pending and self.text_shown is not None:
            self.text = self.text_shown
