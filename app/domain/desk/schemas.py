"""What the desk's log books take and give: visitors, the shift log and hand-over, the duty log, the diary."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, PlainSerializer, model_validator

from app.domain.desk.model import LinkKind, ShiftKind, ShiftStatus
from app.domain.registry.schemas import CallerLookup
from app.domain.repairs.intake.schemas import ServiceRequestCreate
from app.domain.types import InputModel, LongText, Name, OptionalText, ShortText, text

CENT = Decimal("0.01")


Place = Annotated[str, text(200, min_length=0)]
Note = Annotated[str, text(1000, min_length=0)]
HandOverNote = Annotated[str, text(2000, min_length=0)]
Phone = Annotated[str, text(60, min_length=0)]
# A log book's day: bounded so that a wild year is a 422, not a database error.
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2999, 12, 31))]
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")]


# --- visitors ---------------------------------------------------------------------------------

class LinkRef(InputModel):
    kind: LinkKind
    id: uuid.UUID = Field(description="The linked record's id, in the visitor's estate")


def _distinct_links(links: list[LinkRef]) -> list[LinkRef]:
    if len({(link.kind, link.id) for link in links}) != len(links):
        raise ValueError("a record is linked twice")
    return links


class VisitorCreate(InputModel):
    visitor_name: Name = Field(description="Who came: 王先生")
    contact_phone: Phone = ""
    unit_id: uuid.UUID | None = Field(default=None, description="The unit the visit concerns")
    owner_id: uuid.UUID | None = Field(default=None, description="The owner, when the visitor is one on the roster")
    purpose: ShortText = Field(description="Why they came: 咨询装修手续")
    action_taken: OptionalText = Field(default="", description="What the desk did for them")
    visited_at: AwareDatetime | None = Field(default=None, description="When they came; default now")
    links: Annotated[list[LinkRef], Field(max_length=20), AfterValidator(_distinct_links)] = Field(
        default_factory=list, description="Records the visit led to: a service request, a payment or receipt, a complaint")


class LinkRead(BaseModel):
    kind: LinkKind
    id: uuid.UUID
    linked_by: uuid.UUID | None
    linked_at: datetime


class VisitorRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    visited_at: datetime
    visitor_name: str
    contact_phone: str
    unit_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    purpose: str
    action_taken: str
    received_by: uuid.UUID | None
    received_by_name: str | None
    links: list[LinkRead]
    created_at: datetime


# --- the shift log and hand-over --------------------------------------------------------------

class ShiftOpen(InputModel):
    shift: ShiftKind
    shift_date: Day | None = Field(default=None, description="The estate-local day the shift began; default today")


class LogEntryCreate(InputModel):
    occurred_at: AwareDatetime | None = Field(default=None, description="When it happened; default now")
    place: Place = Field(default="", description="Where: 3号楼地下车库")
    what: LongText = Field(description="What happened")
    action_taken: OptionalText = Field(default="", description="What the night duty did about it")
    needs_follow_up: bool = Field(default=False, description="true: the incoming shift must assign it or make it a request")


class HandOverCreate(InputModel):
    note: HandOverNote = ""
    next_shift: ShiftKind | None = Field(default=None, description="The incoming shift; default the next of the day")


class FollowUpCreate(InputModel):
    """One item's disposition: assigned to a staff member of the estate, or made a service request."""

    assign_to: uuid.UUID | None = Field(default=None, description="A staff member of the estate")
    request: ServiceRequestCreate | None = Field(default=None, description="Register a service request for it")
    note: Note = ""

    @model_validator(mode="after")
    def _one(self) -> FollowUpCreate:
        if (self.assign_to is None) == (self.request is None):
            raise ValueError("give exactly one of assign_to or request")
        return self


class FollowUpItem(FollowUpCreate):
    entry_id: uuid.UUID


def _distinct_entries(items: list[FollowUpItem]) -> list[FollowUpItem]:
    if len({i.entry_id for i in items}) != len(items):
        raise ValueError("an entry is disposed of twice")
    return items


class AcceptCreate(InputModel):
    note: HandOverNote = ""
    follow_ups: Annotated[list[FollowUpItem], Field(max_length=200), AfterValidator(_distinct_entries)] = Field(
        default_factory=list, description="Dispositions of the items still unhandled, made in the same transaction")


class LogEntryRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    shift_id: uuid.UUID
    occurred_at: datetime
    place: str
    what: str
    action_taken: str
    needs_follow_up: bool
    is_unhandled: bool
    logged_by: uuid.UUID | None
    logged_by_name: str | None
    follow_up_assignee_id: uuid.UUID | None
    follow_up_assignee_name: str | None
    follow_up_request_id: uuid.UUID | None
    follow_up_note: str
    follow_up_by: uuid.UUID | None
    follow_up_at: datetime | None
    created_at: datetime


class ShiftRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    shift_date: date
    shift: ShiftKind
    status: ShiftStatus
    opened_by: uuid.UUID | None
    opened_by_name: str | None
    next_shift: ShiftKind | None
    handed_over_by: uuid.UUID | None
    handed_over_by_name: str | None
    handed_over_at: datetime | None
    hand_over_note: str
    accepted_by: uuid.UUID | None
    accepted_by_name: str | None
    accepted_at: datetime | None
    accept_note: str
    entry_count: int
    follow_up_count: int
    unhandled_count: int
    allowed_actions: list[str]
    created_at: datetime


class ShiftDetail(ShiftRead):
    entries: list[LogEntryRead]


# --- duty log and diary -----------------------------------------------------------------------

class DutyLogCreate(InputModel):
    shift: ShiftKind
    shift_date: Day | None = Field(default=None, description="The estate-local day of the shift; default today")
    text: LongText


class DutyLogRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    staff_id: uuid.UUID
    staff_name: str
    shift_date: date
    shift: ShiftKind
    text: str
    created_at: datetime


class DiaryCounts(BaseModel):
    """The day's business, counted from the records of the estate-local day."""

    calls: int = Field(description="Service requests registered by phone, enquiries included")
    visitors: int
    requests: int = Field(description="Service requests registered, every channel and kind")
    payments: int = Field(description="Receipts issued and not void")
    payments_total: Amount = Field(description="Their amounts")
    callbacks: int = Field(description="Callbacks that reached the owner")
    log_entries: int = Field(description="Shift log entries that happened on the day")


class Diary(BaseModel):
    """The work diary (工作日志, §7.3.15) of one estate-local day."""

    estate_id: uuid.UUID
    date: date
    time_zone: str
    start: datetime
    end: datetime
    counts: DiaryCounts
    duty_log: list[DutyLogRead]
    shifts: list[ShiftRead]


# --- the desk's phone (screen pop) -----------------------------------------------------------

class IncomingCallCreate(InputModel):
    phone: Annotated[str, text(60), Field(description="The caller's number as the telephone system gives it: "
                                                      "+86 133-5173-7459, 0571 8765 4321, full-width digits")]
    line: Annotated[str, text(40, min_length=0), Field(description="Which of the desk's lines or extensions rings")] = ""


class IncomingCallRead(BaseModel):
    id: uuid.UUID = Field(description="The call: the `entity_id` of its call.incoming event")
    event_id: int = Field(description="The call.incoming event's sequence number on the stream")
    estate_id: uuid.UUID
    dialled: str = Field(description="The number as posted")
    line: str
    received_at: datetime
    lookup: CallerLookup = Field(description="What the desk's screens show: the caller's owners, units, open "
                                             "requests and (for a role that reads fees) arrears")
