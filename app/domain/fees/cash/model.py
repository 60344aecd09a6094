"""The cashier's day (交款, §5.4): takings counted against receipts and handed to finance.

A session is one receptionist's day at one estate. The difference between counted and
expected cash is recorded with a note, never forced to match. Once handed over, the
session's receipts are locked: a later void lands in the void-er's current session as an
adjustment.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import Column, Date, DateTime, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Invalid
from app.domain.events.model import EventType
from app.domain.transitions import TransitionTable


class SessionStatus(StrEnum):
    open = "open"
    handed_over = "handed_over"
    acknowledged = "acknowledged"  # finance has taken it


SESSION_TRANSITIONS: TransitionTable[SessionStatus] = TransitionTable("cashier_session", {
    (SessionStatus.open, "hand_over"): SessionStatus.handed_over,
    (SessionStatus.open, "flag_late"): SessionStatus.open,  # the 17:00 job: not handed over in time
    (SessionStatus.handed_over, "acknowledge"): SessionStatus.acknowledged,
}, clock_only=frozenset({"flag_late"}))


class DifferenceNeedsNote(Invalid):
    title = "Counted cash differs from the expected cash; say why in the note"
    title_zh = "清点现金与应有现金不符；请在备注中说明原因"


class CashierSession(EstateScoped, table=True):
    __tablename__ = "cashier_session"
    __table_args__ = (
        UniqueConstraint("estate_id", "cashier_id", "day"),
        # Drawers not yet handed over: the 17:00 job and the attention queue read only these.
        Index("ix_cashier_session_open", "estate_id", "cashier_id", postgresql_where=text("status = 'open'")),
    )

    cashier_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    day: date = Field(sa_type=Date)  # the estate-local day
    status: SessionStatus = Field(default=SessionStatus.open, sa_type=String(20))
    # Fixed at hand-over: expected takings per method (net of voids and change), as strings.
    expected: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    counted_cash: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    difference: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))  # counted - expected cash
    note: str = Field(default="", max_length=1000)
    handed_over_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    acknowledged_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    acknowledged_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    flagged_late_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # the 17:00 job
    acknowledge_note: str = Field(default="", max_length=1000)  # finance's remark on taking it

    transitions: ClassVar[TransitionTable[SessionStatus]] = SESSION_TRANSITIONS
    audit_actions: ClassVar[dict[str, str]] = {"flag_late": "cashier_session.not_handed_over"}
    verb_events: ClassVar[dict[str, EventType]] = {"hand_over": EventType.cash_handed_over,
                                                   "flag_late": EventType.deadline_missed}

    def event_data(self, action: str) -> dict[str, Any]:
        if action == "flag_late":
            return {"deadline": "cash_handover", "day": self.day, "cashier_id": self.cashier_id}
        return {"cashier_id": self.cashier_id, "day": self.day, "expected": self.expected,
                "counted_cash": self.counted_cash, "difference": self.difference}

    def _move(self, action: str) -> None:
        self.status = SESSION_TRANSITIONS.next_state(SessionStatus(self.status), action)

    def hand_over(self, *, expected: dict[str, Decimal], counted_cash: Decimal, note: str, at: datetime) -> None:
        after = SESSION_TRANSITIONS.next_state(SessionStatus(self.status), "hand_over")
        difference = counted_cash - expected.get("cash", Decimal("0.00"))
        # A shortfall or surplus is recorded as it is, never forced to match -- but explained.
        if difference != 0 and not note.strip():
            raise DifferenceNeedsNote(f"counted {counted_cash} against {expected.get('cash', Decimal('0.00'))} expected",
                                      field="note", difference=str(difference))
        self.status = after
        self.expected = {k: str(v) for k, v in expected.items()}
        self.counted_cash = counted_cash
        self.difference = difference
        self.note, self.handed_over_at = note, at

    def flag_late(self, *, at: datetime) -> bool:
        """Flag once; False when it was flagged already (a re-run of the job)."""
        self._move("flag_late")
        if self.flagged_late_at is not None:
            return False
        self.flagged_late_at = at
        return True

    def acknowledge(self, *, by: uuid.UUID | None, at: datetime, note: str = "") -> None:
        self._move("acknowledge")
        self.acknowledged_by, self.acknowledged_at, self.acknowledge_note = by, at, note

    @property
    def is_locked(self) -> bool:
        """Handed over: no payment joins it and its figures no longer move."""
        return SessionStatus(self.status) is not SessionStatus.open


class SessionAdjustment(EstateScoped, table=True):
    """A void of a receipt from a session already handed over, booked in the current one."""

    __tablename__ = "session_adjustment"

    cashier_session_id: uuid.UUID = Field(foreign_key="cashier_session.id", index=True)
    receipt_id: uuid.UUID = Field(foreign_key="receipt.id", index=True)
    method: str = Field(max_length=20)
    # Negative for a voided payment: reported beside the session's drawer, which never took it.
    amount: Decimal = Field(sa_type=Numeric(12, 2))
    reason: str = Field(max_length=500)
    at: datetime = Field(sa_type=DateTime(timezone=True))
