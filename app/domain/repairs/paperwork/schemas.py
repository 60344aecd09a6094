"""What the office's paperwork endpoints take and give: morning list, daily log, approval
batches and voucher manifests."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.domain.repairs.model import RequestChannel, RequestKind, Urgency, WorkOrderStatus
from app.domain.repairs.paperwork.model import LineDecision, ManifestKind
from app.domain.types import EXACT_DAY, MONTH_PATTERN, WEEK_PATTERN, InputModel, ShortText, real_week


def _sane_day(day: date) -> date:
    if not 2000 <= day.year <= 2099:
        raise ValueError("the day must be in the years 2000-2099")
    return day


IsoWeek = Annotated[str, Field(pattern=WEEK_PATTERN, max_length=8, description="An ISO week: 2026-W48"), AfterValidator(real_week)]
Month = Annotated[str, Field(pattern=MONTH_PATTERN, max_length=7, description="A month: 2026-11")]
ReportDay = Annotated[date, EXACT_DAY, AfterValidator(_sane_day)]


# --- morning (§7.3.1) ------------------------------------------------------------------

class MorningRequest(BaseModel):
    id: uuid.UUID
    number: str
    created_at: datetime
    kind: RequestKind
    channel: RequestChannel
    urgency: Urgency
    category: str
    description: str
    place: str
    contact_name: str
    contact_phone: str
    age_hours: int


class MorningOrder(BaseModel):
    id: uuid.UUID
    number: str
    request_id: uuid.UUID
    request_number: str
    status: WorkOrderStatus
    category: str
    description: str
    place: str
    technician_id: uuid.UUID | None
    technician_name: str | None
    created_at: datetime
    scheduled_start: datetime | None
    age_hours: int
    age_days: int


class MorningCallback(BaseModel):
    id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str
    place: str
    technician_id: uuid.UUID | None
    completed_at: datetime
    due_at: datetime
    overdue: bool
    attempts: int
    call_again_at: datetime | None


class MorningReport(BaseModel):
    """Yesterday's (and older) unfinished business as of the start of `date` (§7.3.1)."""

    estate_id: uuid.UUID
    date: date
    as_of: datetime
    requests: list[MorningRequest]
    orders: list[MorningOrder]
    callbacks: list[MorningCallback]


# --- daily repair log (§5.6) -----------------------------------------------------------

class DailyLogRow(BaseModel):
    work_order_id: uuid.UUID
    # Defaults only for a row stored before numbers existed whose order the migration could not find.
    number: str = Field(default="", description="The work order's number, QS-WX-2026-000123")
    request_id: uuid.UUID
    request_number: str = ""
    created_at: datetime
    category: str
    description: str
    place: str
    is_public_area: bool
    technician_name: str | None
    dispatched_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    events: list[str] = Field(description="What happened to the order that day: created, dispatched, started, completed, cancelled")
    state_at_close: WorkOrderStatus


class DailyLog(BaseModel):
    estate_id: uuid.UUID
    day: date
    close_at: datetime
    source: str = Field(description="stored: compiled by the job at the close; live: computed now")
    compiled_at: datetime | None
    rows: list[DailyLogRow]


# --- approval batches (§7.3.10) --------------------------------------------------------

class ApprovalBatchCreate(InputModel):
    week: IsoWeek


class ApprovalBatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    week: str
    built_at: datetime
    built_by: uuid.UUID | None
    lines: int = 0
    pending: int = 0
    approved: int = 0
    returned: int = 0


class ApprovalLineRead(BaseModel):
    id: uuid.UUID
    batch_id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str
    decision: LineDecision
    reason: str
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    order_status: WorkOrderStatus
    category: str
    description: str
    place: str
    technician_id: uuid.UUID | None
    technician_name: str | None
    completed_at: datetime | None
    callback_done_at: datetime | None
    callback_score: int | None


class ApprovalBatchDetail(ApprovalBatchRead):
    items: list[ApprovalLineRead]


class ReturnLine(InputModel):
    reason: ShortText


# --- voucher manifests (§7.3.10) -------------------------------------------------------

class ManifestBuild(InputModel):
    month: Month


class VoucherManifestRead(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    month: str
    kind: ManifestKind
    jurisdiction_id: uuid.UUID | None
    jurisdiction_name: str | None
    recipient_id: uuid.UUID | None
    built_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: uuid.UUID | None
    vouchers: int


class ManifestLineRead(BaseModel):
    id: uuid.UUID
    voucher_id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str
    posted_at: datetime
    work_done: str
    place: str
    technician_name: str | None
    order_status: WorkOrderStatus


class VoucherManifestDetail(VoucherManifestRead):
    items: list[ManifestLineRead]
