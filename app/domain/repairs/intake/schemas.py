"""What clients send to and get from intake: service requests, repair categories, phone scripts."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.domain.repairs.intake.model import ScriptKey
from app.domain.repairs.model import RequestChannel, RequestKind, RequestStatus, Urgency, WorkOrderStatus
from app.domain.types import Code, InputModel, LongText, Name, PhoneText, text
from app.domain.versions import RowVersion

Location = Annotated[str, text(200, min_length=0)]
ContactName = Annotated[str, text(100, min_length=0)]
# The note also becomes the cancelled order's reason, which holds 500 characters.
CloseNote = Annotated[str, text(500)]
ScriptText = Annotated[str, text(1000)]
CategoryCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


# --- service requests ------------------------------------------------------------------

class ServiceRequestCreate(InputModel):
    kind: RequestKind = RequestKind.repair
    channel: RequestChannel = Field(description="phone, walk_in, or a patrol (§7.3.11): then the signed-in staff member is the reporter")
    urgency: Urgency = Urgency.normal
    category: Code | None = Field(default=None, description="One of the estate's active repair category codes; required for a repair")
    description: LongText = Field(description="What is wanted: 水龍頭漏水")
    unit_id: uuid.UUID | None = Field(
        default=None, description="The unit; left out, the caller's only unit is taken when the phone matches an owner")
    location: Location = Field(default="", description="A public location when there is no unit: 3号楼电梯厅")
    contact_name: ContactName = ""
    contact_phone: PhoneText | None = Field(default=None, description="As typed; an owner's number links the owner (and their only unit)")
    window_start: AwareDatetime | None = Field(default=None, description="Requested appointment, with a UTC offset")
    window_end: AwareDatetime | None = None

    @model_validator(mode="after")
    def _window(self) -> ServiceRequestCreate:
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError("give both window_start and window_end, or neither")
        if self.window_start is not None and self.window_end is not None and not self.window_start < self.window_end:
            raise ValueError("window_end must come after window_start")
        return self


class ServiceRequestClose(InputModel):
    note: CloseNote = Field(description="What the desk told the caller, or why the request is closed")


class ServiceRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    number: str = Field(description="QS-BX-2026-000045: the request's number in its estate and year, to read to the caller")
    kind: RequestKind
    channel: RequestChannel
    urgency: Urgency
    category: str
    description: str
    unit_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    is_public_area: bool
    location: str
    contact_name: str
    contact_phone: str = Field(description="Digits only")
    window_start: datetime | None
    window_end: datetime | None
    reporter_id: uuid.UUID | None = Field(description="The staff member who found it on patrol; null when the owner reported it")
    registered_by: uuid.UUID | None
    status: RequestStatus
    closed_note: str
    closed_at: datetime | None
    created_at: datetime
    work_order_id: uuid.UUID | None = None
    work_order_number: str | None = Field(default=None, description="QS-WX-2026-000123: the number of the order answering it")
    work_order_status: WorkOrderStatus | None = None
    read_back: str = Field(default="", description="The §7.3.5 confirmation to read back to the caller")


# --- repair categories -----------------------------------------------------------------

class RepairCategoryWrite(InputModel):
    name: Name = Field(description="As the desk says it: 水暖")
    active: bool = True
    sort: int = Field(default=0, ge=0, le=10_000)


class RepairCategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    code: str
    name: str
    active: bool
    sort: int


# --- phone scripts ---------------------------------------------------------------------

class PhoneScriptUpdate(InputModel):
    text: ScriptText = Field(description="The wording, with placeholders such as {caller} and {office_name}")


class PhoneScriptRead(BaseModel):
    key: ScriptKey
    version: RowVersion
    text: str
    is_default: bool
    placeholders: list[str] = Field(description="The placeholders this script may use")
    updated_at: datetime | None = None


class PhoneScriptRenderRequest(InputModel):
    phone: PhoneText | None = Field(default=None, description="The caller's number; an owner's number names the caller")
    owner_id: uuid.UUID | None = None
    request_id: uuid.UUID | None = Field(default=None, description="The request being read back: caller, address, appointment")
    technician_id: uuid.UUID | None = Field(
        default=None, description="For technician_busy: where this technician is working now; left out, who is on a job now and where")


class PhoneScriptRendered(BaseModel):
    key: ScriptKey
    text: str = Field(description="What the receptionist says")
    template: str
    missing: list[str] = Field(description="Placeholders with no value; a neutral word was said instead")
