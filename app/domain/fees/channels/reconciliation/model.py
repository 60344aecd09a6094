"""Reconciliation (对账) of a channel's money: the day's statement, its lines, and what did not match.

A statement is one per (estate, channel, day); importing the day again replaces its lines and
matches again, so a day is never counted twice. Each discrepancy is a ReconciliationItem,
one per (estate, channel, category, reference) however often the day is imported: it stays
`open` in finance's attention queue until resolved with a note -- booked, refunded, or explained.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, Column, Date, DateTime, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Conflict
from app.domain.events.model import EventType
from app.domain.fees.channels.model import Channel
from app.domain.transitions import TransitionTable


class StatementSource(StrEnum):
    download = "download"  # fetched through the channel's API
    upload = "upload"  # a file in the channel's format, uploaded by finance


class MatchCategory(StrEnum):
    matched = "matched"
    channel_only = "channel_only"  # in the channel's statement, nothing booked here: money received, unbooked
    here_only = "here_only"  # paid here, absent from the channel's statement of that day
    amount_mismatch = "amount_mismatch"
    status_mismatch = "status_mismatch"  # the channel says paid (or refunded); here it is not, or the other way


CATEGORY_NAMES = {MatchCategory.matched: "已对平", MatchCategory.channel_only: "渠道有、本系统无",
                  MatchCategory.here_only: "本系统有、渠道无", MatchCategory.amount_mismatch: "金额不符",
                  MatchCategory.status_mismatch: "状态不符"}


class ChannelStatement(EstateScoped, table=True):
    __tablename__ = "channel_statement"
    __table_args__ = (UniqueConstraint("estate_id", "channel", "day"),)

    channel: Channel = Field(sa_type=String(20))
    day: date = Field(sa_type=Date)
    source: StatementSource = Field(sa_type=String(20))
    sha1: str = Field(max_length=40)  # of the file as read: the same file twice is seen as the same
    imported_at: datetime = Field(sa_type=DateTime(timezone=True))
    imported_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")  # None: the job
    imports: int = Field(default=1)
    line_count: int
    settled_total: Decimal = Field(sa_type=Numeric(14, 2))
    refund_total: Decimal = Field(sa_type=Numeric(14, 2))
    fee_total: Decimal = Field(sa_type=Numeric(14, 2))
    order_total: Decimal = Field(sa_type=Numeric(14, 2))
    net: Decimal = Field(sa_type=Numeric(14, 2))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))  # per category
    amounts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))  # per category, text


class StatementLine(EstateScoped, table=True):
    __tablename__ = "channel_statement_line"
    __table_args__ = (
        UniqueConstraint("statement_id", "kind", "channel_ref"),
        CheckConstraint("kind IN ('payment', 'refund')", name="kind_known"),
    )

    statement_id: uuid.UUID = Field(foreign_key="channel_statement.id", index=True)
    line_no: int
    kind: str = Field(sa_type=String(20))
    at: datetime = Field(sa_type=DateTime(timezone=True))
    channel_ref: str = Field(max_length=64)
    out_no: str = Field(max_length=64)
    out_trade_no: str = Field(max_length=64)
    status: str = Field(max_length=20)
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    settled: Decimal = Field(sa_type=Numeric(12, 2))
    fee: Decimal = Field(sa_type=Numeric(12, 2))
    category: MatchCategory = Field(sa_type=String(30))
    channel_payment_id: uuid.UUID | None = Field(default=None, foreign_key="channel_payment.id")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class ItemState(StrEnum):
    open = "open"
    booked = "booked"  # the money was booked here (a payment or credit entered by finance)
    refunded = "refunded"  # the money was given back through the channel
    explained = "explained"  # nothing to move: finance wrote why


class Resolution(StrEnum):
    book = "book"
    refund = "refund"
    explain = "explain"


S = ItemState
ITEM_TRANSITIONS: TransitionTable[ItemState] = TransitionTable("reconciliation_item", {
    (S.open, "book"): S.booked,
    (S.open, "refund"): S.refunded,
    (S.open, "explain"): S.explained,
})


class NothingToBook(Conflict):
    title = "The channel holds no money for this item: it can only be explained"
    title_zh = "渠道未收到该笔款项，只能填写说明"


class ReconciliationItem(EstateScoped, table=True):
    """A discrepancy between the channel's statement and the books: finance's to resolve, with a note."""

    __tablename__ = "reconciliation_item"
    __table_args__ = (
        UniqueConstraint("estate_id", "channel", "category", "reference"),
        CheckConstraint("category <> 'matched'", name="not_matched"),
        CheckConstraint("status = 'open' OR (resolved_by IS NOT NULL AND note <> '')", name="resolved_with_note"),
        Index("ix_reconciliation_item_open", "estate_id", "status", "day"),
    )

    channel: Channel = Field(sa_type=String(20))
    day: date = Field(sa_type=Date)
    category: MatchCategory = Field(sa_type=String(30))
    kind: str = Field(sa_type=String(20))  # payment or refund
    reference: str = Field(max_length=64)  # the channel's number, or ours when the channel has none
    out_trade_no: str = Field(default="", max_length=64)
    channel_payment_id: uuid.UUID | None = Field(default=None, foreign_key="channel_payment.id", index=True)
    channel_amount: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    booked_amount: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    channel_status: str = Field(default="", max_length=20)
    booked_status: str = Field(default="", max_length=20)
    status: ItemState = Field(default=ItemState.open, sa_type=String(20))
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    resolved_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    transitions: ClassVar[TransitionTable[ItemState]] = ITEM_TRANSITIONS
    verb_events: ClassVar[dict[str, EventType]] = {
        "book": EventType.reconciliation_item_resolved, "refund": EventType.reconciliation_item_resolved,
        "explain": EventType.reconciliation_item_resolved,
    }

    def event_data(self, action: str) -> dict[str, Any]:
        return {"channel": self.channel, "day": self.day, "category": self.category, "reference": self.reference,
                "resolution": action, "status": self.status, "resolved_by": self.resolved_by}

    def _resolve(self, action: str, *, note: str, by: uuid.UUID, at: datetime) -> None:
        self.status = ITEM_TRANSITIONS.next_state(ItemState(self.status), action)
        self.note, self.resolved_by, self.resolved_at = note, by, at

    def book(self, *, note: str, by: uuid.UUID, at: datetime) -> None:
        self._money_in_channel()
        self._resolve("book", note=note, by=by, at=at)

    def refund(self, *, note: str, by: uuid.UUID, at: datetime) -> None:
        self._money_in_channel()
        self._resolve("refund", note=note, by=by, at=at)

    def explain(self, *, note: str, by: uuid.UUID, at: datetime) -> None:
        self._resolve("explain", note=note, by=by, at=at)

    def _money_in_channel(self) -> None:
        # Booking or refunding money the channel does not hold would invent it.
        if self.category == MatchCategory.here_only and self.status == ItemState.open:
            raise NothingToBook(f"{self.reference} is not in the channel's statement of {self.day}", category=self.category)
