"""Domain events in an outbox, and the webhooks that carry them to integrations.

An event is written in the same transaction as the change that caused it, together with one
delivery row per subscribed endpoint: a rolled-back change leaves neither, a committed one
leaves both, and a crash after the commit leaves the delivery pending for the next
dispatcher. Deliveries are at-least-once; the event id lets the receiver de-duplicate.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field

from app.domain.base import Entity, EstateScoped
from app.domain.transitions import TransitionTable
from app.domain.versions import Versioned


class EventType(StrEnum):
    request_registered = "request.registered"
    order_dispatched = "order.dispatched"
    order_time_confirmed = "order.time_confirmed"
    order_completed = "order.completed"
    callback_done = "callback.done"
    payment_received = "payment.received"
    receipt_voided = "receipt.voided"
    account_deducted = "account.deducted"  # charges settled from a unit's prepaid account
    cash_handed_over = "cash.handed_over"
    report_ready = "report.ready"
    deadline_missed = "deadline.missed"
    # The payload names the order, never the code: the code goes to the owner's phone only.
    owner_code_issued = "owner_code.issued"
    owner_code_locked = "owner_code.locked"
    # Money channels (fees/channels): an order at the channel paid, failed or closed, and a
    # verified word from the channel that was not booked as it stands (finance looks at it).
    channel_payment_paid = "channel_payment.paid"
    channel_payment_failed = "channel_payment.failed"
    channel_payment_closed = "channel_payment.closed"
    channel_alert = "channel.alert"
    # A refund of a channel payment: the money left (the receipt reversed with it), the channel
    # refused it or closed it, or it is stuck between the merchant and the owner (abnormal).
    channel_refund_succeeded = "channel_refund.succeeded"
    channel_refund_failed = "channel_refund.failed"
    channel_refund_closed = "channel_refund.closed"
    channel_refund_abnormal = "channel_refund.abnormal"
    # The desk's phone rings: the caller's number and what the desk knows of them (screen pop).
    # Names and arrears: only the desk's stream shows it, and a webhook only if asked for by name.
    call_incoming = "call.incoming"
    # Reconciliation (fees/channels/reconciliation): a discrepancy with the channel's statement resolved.
    reconciliation_item_resolved = "reconciliation_item.resolved"


# Events a webhook endpoint receives only when it names them: they carry owners' personal data.
NAMED_ONLY: frozenset[str] = frozenset({EventType.call_incoming.value})


class OutboxEvent(EstateScoped, table=True):
    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_estate_seq", "estate_id", "seq"),
        # The desk's list of the day's calls (desk/calls.py).
        Index("ix_outbox_event_calls", "estate_id", "occurred_at", postgresql_where=text("type = 'call.incoming'")),
    )

    # A total order for readers that resume ("everything after 1234"): the stream's Last-Event-ID.
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), nullable=False, unique=True))
    type: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: str = Field(max_length=64)
    occurred_at: datetime = Field(sa_type=DateTime(timezone=True))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class WebhookEndpoint(EstateScoped, Versioned, table=True):
    __tablename__ = "webhook_endpoint"

    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=200)
    # Empty: every event type.
    event_types: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(40)), nullable=False))
    secret: str = Field(max_length=100)  # kept in clear: the server signs with it
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"secret"})  # never in the audit trail
    active: bool = True
    disabled_reason: str = Field(default="", max_length=200)
    disabled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Consecutive failed attempts, and since when; a success resets both.
    failure_streak: int = 0
    failing_since: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    def wants(self, event_type: str) -> bool:
        named = event_type in self.event_types
        return self.active and (named or (not self.event_types and event_type not in NAMED_ONLY))


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # gave up after the retry window; a manual redelivery revives it


DELIVERY_TRANSITIONS: TransitionTable[DeliveryStatus] = TransitionTable("webhook_delivery", {
    (DeliveryStatus.pending, "succeed"): DeliveryStatus.delivered,
    (DeliveryStatus.pending, "retry"): DeliveryStatus.pending,
    (DeliveryStatus.pending, "give_up"): DeliveryStatus.failed,
    (DeliveryStatus.pending, "redeliver"): DeliveryStatus.pending,
    (DeliveryStatus.delivered, "redeliver"): DeliveryStatus.pending,
    (DeliveryStatus.failed, "redeliver"): DeliveryStatus.pending,
})


class WebhookDelivery(Entity, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        # The dispatcher's scan: only pending rows, by when they are due.
        Index("ix_webhook_delivery_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    estate_id: uuid.UUID = Field(foreign_key="estate.id", index=True)
    event_id: uuid.UUID = Field(foreign_key="outbox_event.id", index=True)
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoint.id", index=True)
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=String(20))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=DateTime(timezone=True))
    # Retries stop RETRY_WINDOW after this: the event's time, or a manual redelivery's.
    retry_from: datetime = Field(sa_type=DateTime(timezone=True))
    last_status_code: int | None = None
    last_error: str = Field(default="", max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    transitions: ClassVar[TransitionTable[DeliveryStatus]] = DELIVERY_TRANSITIONS

    def move(self, action: str) -> None:
        self.status = DELIVERY_TRANSITIONS.next_state(DeliveryStatus(self.status), action)

    def redeliver(self, *, at: datetime) -> None:
        """Sent again by hand: a fresh retry window from now."""
        self.move("redeliver")
        self.next_attempt_at = self.retry_from = at


class WebhookAttempt(Entity, table=True):
    """One HTTP attempt of a delivery: the delivery log."""

    __tablename__ = "webhook_attempt"

    delivery_id: uuid.UUID = Field(foreign_key="webhook_delivery.id", index=True)
    at: datetime = Field(sa_type=DateTime(timezone=True))
    status_code: int | None = None
    error: str = Field(default="", max_length=500)
    duration_ms: int = 0
