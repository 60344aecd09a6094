"""What the work-order, technician and reply-promise endpoints take and give."""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.domain.repairs.model import RequestChannel, RequestKind, Urgency, WorkOrderStatus
from app.domain.types import InputModel, ShortText, text
from app.domain.versions import RowVersion

# A booking holds one visit; a longer job is booked day by day.
_MAX_WINDOW = timedelta(hours=24)


class _Window(InputModel):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _in_order(self) -> _Window:
        if not self.start < self.end:
            raise ValueError("end must come after start")
        if self.end - self.start > _MAX_WINDOW:
            raise ValueError("a booking lasts at most one day")
        return self


class DispatchIn(_Window):
    technician_id: uuid.UUID


class ConfirmIn(_Window):
    pass


class AwaitConfirmationIn(InputModel):
    technician_id: uuid.UUID | None = None
    reply_within_minutes: int = Field(default=30, ge=1, le=240, description="When the desk must ring the owner back")


class ReasonIn(InputModel):
    reason: ShortText


class OwnerToldIn(InputModel):
    told_at: AwareDatetime | None = Field(default=None, description="When the owner was told; now when left out")


class BookingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    technician_id: uuid.UUID
    work_order_id: uuid.UUID
    start: datetime
    end: datetime
    active: bool


class ReplyPromiseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    work_order_id: uuid.UUID
    technician_id: uuid.UUID | None
    created_at: datetime
    due_at: datetime
    confirmed_start: datetime | None
    confirmed_end: datetime | None
    confirmed_at: datetime | None
    owner_told_at: datetime | None
    owner_told_by: uuid.UUID | None
    closed_at: datetime | None
    overdue: bool = False
    unit_label: str | None = None
    contact_name: str = ""
    contact_phone: str = ""


class RequestSummary(BaseModel):
    id: uuid.UUID
    number: str
    kind: RequestKind
    channel: RequestChannel
    urgency: Urgency
    description: str
    contact_name: str
    contact_phone: str
    location: str
    window_start: datetime | None
    window_end: datetime | None


class WorkOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    number: str = Field(description="QS-WX-2026-000123: the order's number in its estate and year")
    request_id: uuid.UUID
    request_number: str | None = Field(default=None, description="QS-BX-2026-000045: the number the caller was given")
    status: WorkOrderStatus
    category: str
    unit_id: uuid.UUID | None
    building_id: uuid.UUID | None
    is_public_area: bool
    technician_id: uuid.UUID | None
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    created_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    started_on_device_at: datetime | None = Field(
        default=None, description="When the technician's phone says he started (X-Device-Time); started_at is the server's")
    completed_on_device_at: datetime | None = Field(
        default=None, description="When the technician's phone says he finished (X-Device-Time); completed_at is the server's")
    cancelled_at: datetime | None
    cancel_reason: str
    reopen_count: int
    last_reason: str
    unit_label: str | None = None
    urgency: Urgency | None = None
    description: str = ""


class WorkOrderDetail(WorkOrderRead):
    allowed_actions: list[str]
    request: RequestSummary
    technician_name: str | None = None
    booking: BookingRead | None = None
    reply_promise: ReplyPromiseRead | None = None


class MaterialLine(BaseModel):
    item: str = ""
    quantity: str = ""


class TaskSheet(BaseModel):
    """The repair task sheet (維修任務單) as printed for the technician (§7.3.8)."""

    office_name: str
    order_id: uuid.UUID
    number: str = Field(description="The order's number, QS-WX-2026-000123")
    request_number: str
    status: WorkOrderStatus
    issued_at: datetime
    description: str
    category: str
    urgency: Urgency
    unit_label: str | None
    location: str
    contact_name: str
    contact_phone: str
    time_zone: str
    scheduled_start_local: str | None = Field(description="The estate's local time, YYYY-MM-DD HH:MM")
    scheduled_end_local: str | None
    scheduled_window: str | None = Field(description="2024-05-06 09:00–10:00, in the estate's local time")
    technician_name: str | None
    materials: list[MaterialLine]


class WorkingHours(InputModel):
    morning_open: time
    morning_close: time
    afternoon_open: time
    afternoon_close: time

    @model_validator(mode="after")
    def _in_order(self) -> WorkingHours:
        if any(t.tzinfo is not None for t in (self.morning_open, self.morning_close, self.afternoon_open, self.afternoon_close)):
            raise ValueError("hours are local times without a time zone")
        if not (self.morning_open < self.morning_close <= self.afternoon_open < self.afternoon_close):
            raise ValueError("hours must run morning_open < morning_close <= afternoon_open < afternoon_close")
        return self


class WorkingHoursRead(WorkingHours):
    technician_id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    is_estate_default: bool


class Whereabouts(BaseModel):
    work_order_id: uuid.UUID
    building_id: uuid.UUID | None
    building_name: str | None
    location: str


class TechnicianAvailability(BaseModel):
    technician_id: uuid.UUID
    full_name: str
    phone: str | None
    free: bool
    reason: str | None = Field(description="outside_hours or booked when not free")
    clashing_order_ids: list[uuid.UUID]
    now_at: Whereabouts | None = Field(description="Where he is working now (§7.3.7: 「師傅現正在8號樓維修」)")
    next_booking: BookingRead | None


class AvailabilityRead(BaseModel):
    start: datetime
    end: datetime
    technicians: list[TechnicianAvailability]


NoteText = Annotated[str, text(2000)]


class NoteCreate(InputModel):
    text: NoteText = Field(description="What the desk should know when it rings the owner back (回訪)")


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    work_order_id: uuid.UUID
    author_id: uuid.UUID
    text: str
    noted_at: datetime = Field(description="When the server received the note")
    noted_on_device_at: datetime | None = Field(description="When the technician's phone says it was written (X-Device-Time)")
