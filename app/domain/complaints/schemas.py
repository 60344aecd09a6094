"""What the complaint endpoints take and give."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.domain.complaints.model import Category, ComplaintChannel, ComplaintStatus, Severity, StepKind, WindowUnit
from app.domain.types import InputModel, LongText, OptionalText, text
from app.domain.versions import RowVersion

OptionalName = Annotated[str, text(100, min_length=0)]
OptionalPhone = Annotated[str, text(60, min_length=0)]


class ComplaintCreate(InputModel):
    owner_id: uuid.UUID | None = Field(default=None, description="An owner of the estate, when the complainant is one")
    unit_id: uuid.UUID | None = Field(default=None, description="A unit of the estate the complaint concerns")
    complainant_name: OptionalName = ""
    contact_phone: OptionalPhone = ""
    channel: ComplaintChannel
    category: Category
    severity: Severity = Severity.normal
    description: LongText = Field(description="What happened, as the owner told it")
    received_at: AwareDatetime | None = Field(
        default=None, description="When the complaint reached the office (a letter may be registered later); default now")
    service_request_id: uuid.UUID | None = Field(default=None, description="The repair request the complaint is about")


class AssignCreate(InputModel):
    handler_id: uuid.UUID = Field(description="An active staff member of the estate")
    note: OptionalText = ""


class StepCreate(InputModel):
    note: LongText = Field(description="What was done")
    done_at: AwareDatetime | None = Field(default=None, description="When it was done; default now")
    done_by: uuid.UUID | None = Field(default=None, description="Who did it (a staff member of the estate); default you")


class ResolveCreate(InputModel):
    resolution: LongText


class FeedbackCreate(InputModel):
    satisfied: bool = Field(description="true closes the complaint; false reopens it with a new deadline")
    note: OptionalText = Field(default="", description="What the owner said; required when not satisfied")


class ReasonCreate(InputModel):
    reason: LongText


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: StepKind
    note: str
    done_at: datetime
    done_by: uuid.UUID | None
    recorded_by: uuid.UUID | None
    satisfied: bool | None


class ComplaintRead(BaseModel):
    """A line of the complaint record book (業主投訴記錄本)."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    number: str
    owner_id: uuid.UUID | None
    owner_name: str | None
    unit_id: uuid.UUID | None
    unit_label: str | None
    service_request_id: uuid.UUID | None
    service_request_number: str | None = Field(default=None, description="QS-BX-2026-000045, the repair request it is about")
    complainant_name: str
    contact_phone: str
    channel: ComplaintChannel
    category: Category
    severity: Severity
    description: str
    received_at: datetime
    deadline: datetime
    is_overdue: bool
    status: ComplaintStatus
    registered_by: uuid.UUID | None
    handler_id: uuid.UUID | None
    handler_name: str | None
    assigned_at: datetime | None
    escalated_at: datetime | None
    escalated_by: uuid.UUID | None
    escalation_reason: str
    resolution: str
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    feedback_satisfied: bool | None
    feedback_note: str
    feedback_at: datetime | None
    reopen_count: int
    closed_at: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str
    created_at: datetime
    allowed_actions: list[str]


class ComplaintDetail(ComplaintRead):
    """The complaint with its disposition form (業主投訴處置單), oldest line first."""

    steps: list[StepRead]


Amount = Annotated[int, Field(ge=1, le=2160)]


class WindowWrite(InputModel):
    amount: Amount = Field(description="1 to 2160 (90 days in hours)")
    unit: WindowUnit = Field(description="hours: from the instant of receipt; days: by the end of the n-th local day after it")


class DeadlinesWrite(InputModel):
    """All four severities at once; each must allow no more time than the next less severe one."""

    urgent: WindowWrite
    high: WindowWrite
    normal: WindowWrite
    low: WindowWrite


class WindowRead(BaseModel):
    amount: int
    unit: WindowUnit
    is_default: bool


class DeadlinesRead(BaseModel):
    estate_id: uuid.UUID
    version: RowVersion
    urgent: WindowRead
    high: WindowRead
    normal: WindowRead
    low: WindowRead
    updated_at: datetime | None


class StatsLine(BaseModel):
    received: int
    resolved_in_time: int = Field(description="Resolved (or closed) by its deadline")
    resolved_late: int
    open: int = Field(description="Not resolved, closed or withdrawn now")
    overdue: int = Field(description="Open and past the deadline now")
    withdrawn: int
    closed: int
    satisfied: int = Field(description="Owner feedback answers 'satisfied' given on these complaints")
    not_satisfied: int
    satisfied_rate: Decimal | None = Field(description="satisfied / (satisfied + not_satisfied), 4 places; null without answers")
    in_time_rate: Decimal | None = Field(description="resolved_in_time / (resolved_in_time + resolved_late + overdue), 4 places")


class CategoryLine(StatsLine):
    category: Category


class ComplaintStats(BaseModel):
    """The month's complaints (received in the estate-local month), as they stand now."""

    estate_id: uuid.UUID
    month: str
    start: date
    end: date = Field(description="The month's last day")
    as_of: datetime
    total: StatsLine
    by_category: list[CategoryLine] = Field(description="Every category, with zeros where none were received")
    by_severity: dict[Severity, int] = Field(description="Received per severity")
