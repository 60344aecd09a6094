"""The desk's own log books: visitors (接待, §7.3.12), the shift log and its hand-over (§7.2),
and the duty log that the day's work diary is assembled from (§7.3.15).

A shift's log book is one aggregate with its own transition table:

    open --log_entry--> open                     (night duty writes what happened)
    open --hand_over--> handed_over              (the outgoing staff member closes the book)
    handed_over --dispose_follow_up--> handed_over   (an item is assigned or made a request)
    handed_over --accept--> accepted             (the incoming staff member takes over)

Accepting needs every entry that needs following up to be assigned to a staff member of the
estate or turned into a service request: nothing read at 8:00 is left with nobody (§7.2).
One book is open per estate at a time; entries always land in the open one.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, DateTime, Index, String, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Conflict, Invalid
from app.domain.transitions import TransitionTable


class ShiftKind(StrEnum):
    morning = "morning"
    afternoon = "afternoon"
    night = "night"


# The usual order of the day; a hand-over may name another incoming shift.
NEXT_SHIFT = {ShiftKind.night: ShiftKind.morning, ShiftKind.morning: ShiftKind.afternoon,
              ShiftKind.afternoon: ShiftKind.night}


class ShiftStatus(StrEnum):
    open = "open"
    handed_over = "handed_over"
    accepted = "accepted"


H = ShiftStatus
SHIFT_TRANSITIONS: TransitionTable[ShiftStatus] = TransitionTable("shift", {
    (H.open, "log_entry"): H.open,
    (H.open, "hand_over"): H.handed_over,
    (H.handed_over, "dispose_follow_up"): H.handed_over,
    (H.handed_over, "accept"): H.accepted,
})


class LinkKind(StrEnum):
    """What a visit led to: a record made at the desk while the visitor was there."""

    service_request = "service_request"
    payment = "payment"
    receipt = "receipt"
    complaint = "complaint"


# --- errors the aggregates raise ------------------------------------------------------------

class FollowUpsUnhandled(Conflict):
    title = "Some log entries that need following up are neither assigned nor made a request"
    title_zh = "有需要跟进的值班记录既未指派也未转为报修"


class TakeOverFromYourself(Conflict):
    title = "The staff member who handed the shift over cannot also take it over"
    title_zh = "交班人不能同时作为接班人"


class NoFollowUpNeeded(Invalid):
    title = "This log entry does not need following up"
    title_zh = "这条值班记录不需要跟进"


class FollowUpAlreadyHandled(Conflict):
    title = "This log entry's follow-up is already assigned or made a request"
    title_zh = "这条值班记录的跟进已指派或已转为报修"


# --- visitors (接待, §7.3.12) ----------------------------------------------------------------

class Visitor(EstateScoped, table=True):
    __table_args__ = (Index("ix_visitor_estate_visited", "estate_id", "visited_at"),)

    visited_at: datetime = Field(sa_type=DateTime(timezone=True))
    visitor_name: str = Field(max_length=100)
    contact_phone: str = Field(default="", max_length=60)  # as the visitor gave it
    unit_id: uuid.UUID | None = Field(default=None, foreign_key="unit.id", index=True)
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="owner.id", index=True)
    purpose: str = Field(max_length=200)
    action_taken: str = Field(default="", max_length=4000)  # what the desk did for them
    received_by: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)


class VisitorLink(EstateScoped, table=True):
    """A record the visit led to, by kind and id; checked to exist in the estate when linked."""

    __tablename__ = "visitor_link"
    __table_args__ = (
        UniqueConstraint("visitor_id", "kind", "target_id"),
        Index("ix_visitor_link_target", "kind", "target_id"),
    )

    visitor_id: uuid.UUID = Field(foreign_key="visitor.id", index=True)
    kind: LinkKind = Field(sa_type=String(20))
    target_id: uuid.UUID
    linked_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")


# --- the shift log and its hand-over (§7.2) ----------------------------------------------------

class ShiftLogEntry(EstateScoped, table=True):
    """What happened during a shift: time, place, what, what was done, and whether it needs following up."""

    __tablename__ = "shift_log_entry"
    __table_args__ = (
        Index("ix_shift_log_entry_shift_at", "shift_id", "occurred_at"),
        CheckConstraint("follow_up_assignee_id IS NULL OR follow_up_request_id IS NULL", name="one_disposition"),
        CheckConstraint("needs_follow_up OR (follow_up_assignee_id IS NULL AND follow_up_request_id IS NULL)",
                        name="disposition_needs_follow_up"),
    )

    shift_id: uuid.UUID = Field(foreign_key="shift_handover.id", index=True)
    occurred_at: datetime = Field(sa_type=DateTime(timezone=True))
    place: str = Field(default="", max_length=200)
    what: str = Field(max_length=4000)
    action_taken: str = Field(default="", max_length=4000)
    needs_follow_up: bool = False
    logged_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    follow_up_assignee_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)
    follow_up_request_id: uuid.UUID | None = Field(default=None, foreign_key="service_request.id", index=True)
    follow_up_note: str = Field(default="", max_length=1000)
    follow_up_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    follow_up_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    @property
    def is_unhandled(self) -> bool:
        return self.needs_follow_up and self.follow_up_assignee_id is None and self.follow_up_request_id is None

    def check_open_follow_up(self) -> None:
        if not self.needs_follow_up:
            raise NoFollowUpNeeded(field="entry_id", entry_id=str(self.id))
        if not self.is_unhandled:
            raise FollowUpAlreadyHandled(entry_id=str(self.id))

    audit_actions: ClassVar[dict[str, str]] = {"convert": "shift_log_entry.make_request"}

    def assign(self, *, assignee_id: uuid.UUID, note: str, by: uuid.UUID | None, at: datetime) -> None:
        self.check_open_follow_up()
        self.follow_up_assignee_id = assignee_id
        self.follow_up_note, self.follow_up_by, self.follow_up_at = note, by, at

    def convert(self, *, request_id: uuid.UUID, note: str, by: uuid.UUID | None, at: datetime) -> None:
        self.check_open_follow_up()
        self.follow_up_request_id = request_id
        self.follow_up_note, self.follow_up_by, self.follow_up_at = note, by, at


class ShiftHandover(EstateScoped, table=True):
    """One shift's log book at one estate, from opening to the incoming staff member's acceptance."""

    __tablename__ = "shift_handover"
    __table_args__ = (
        UniqueConstraint("estate_id", "shift_date", "shift"),
        # One book is written at a time: the estate's open shift takes every new entry.
        Index("uq_shift_handover_one_open", "estate_id", unique=True, postgresql_where=sql_text("status = 'open'")),
        CheckConstraint("status = 'open' OR (handed_over_at IS NOT NULL AND next_shift IS NOT NULL)", name="handed_over_stamped"),
        CheckConstraint("status <> 'accepted' OR (accepted_at IS NOT NULL AND accepted_by IS NOT NULL)", name="accepted_stamped"),
    )

    shift_date: date = Field(sa_type=Date)  # the estate-local day the shift began
    shift: ShiftKind = Field(sa_type=String(20))
    status: ShiftStatus = Field(default=ShiftStatus.open, sa_type=String(20), index=True)
    opened_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    next_shift: ShiftKind | None = Field(default=None, sa_type=String(20))
    handed_over_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    handed_over_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    hand_over_note: str = Field(default="", max_length=2000)
    accepted_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    accepted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    accept_note: str = Field(default="", max_length=2000)

    transitions: ClassVar[TransitionTable[ShiftStatus]] = SHIFT_TRANSITIONS
    audit_entity: ClassVar[str] = "shift"

    def _move(self, action: str) -> None:
        self.status = SHIFT_TRANSITIONS.next_state(ShiftStatus(self.status), action)

    def allowed_actions(self) -> list[str]:
        return SHIFT_TRANSITIONS.allowed_actions(ShiftStatus(self.status))

    def log_entry(self, *, occurred_at: datetime, place: str, what: str, action_taken: str, needs_follow_up: bool,
                  by: uuid.UUID | None) -> ShiftLogEntry:
        self._move("log_entry")
        return ShiftLogEntry(estate_id=self.estate_id, shift_id=self.id, occurred_at=occurred_at, place=place, what=what,
                             action_taken=action_taken, needs_follow_up=needs_follow_up, logged_by=by)

    def hand_over(self, *, by: uuid.UUID | None, at: datetime, note: str, next_shift: ShiftKind | None) -> None:
        self._move("hand_over")
        self.next_shift = next_shift or NEXT_SHIFT[ShiftKind(self.shift)]
        self.handed_over_by, self.handed_over_at, self.hand_over_note = by, at, note

    def check_can_dispose(self) -> None:
        """Items are disposed of by the incoming side, once the book is handed over."""
        SHIFT_TRANSITIONS.next_state(ShiftStatus(self.status), "dispose_follow_up")

    def check_can_accept(self, *, by: uuid.UUID | None) -> ShiftStatus:
        after = SHIFT_TRANSITIONS.next_state(ShiftStatus(self.status), "accept")
        if by is not None and by == self.handed_over_by:
            raise TakeOverFromYourself()
        return after

    def accept(self, *, by: uuid.UUID | None, at: datetime, note: str, entries: Sequence[ShiftLogEntry]) -> None:
        after = self.check_can_accept(by=by)
        unhandled = [e for e in entries if e.is_unhandled]
        if unhandled:
            raise FollowUpsUnhandled(
                f"{len(unhandled)} item(s) need an assignee or a service request before the shift can be accepted",
                unhandled=[{"entry_id": str(e.id), "what": e.what[:200]} for e in unhandled],
            )
        self.status = after
        self.accepted_by, self.accepted_at, self.accept_note = by, at, note


# --- the duty log (值班記錄, §7.3.15) -------------------------------------------------------------

class DutyLogEntry(EstateScoped, table=True):
    """One staff member's note of one shift; kept as written (a correction is a new entry)."""

    __tablename__ = "duty_log_entry"
    __table_args__ = (Index("ix_duty_log_entry_estate_day", "estate_id", "shift_date", "shift"),)

    staff_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    shift_date: date = Field(sa_type=Date)
    shift: ShiftKind = Field(sa_type=String(20))
    text: str = Field(max_length=4000)
