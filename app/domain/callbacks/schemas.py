"""What the callback endpoints take and give."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.domain.callbacks.model import AttemptResult, CallbackOutcome, CallbackStatus
from app.domain.repairs.model import WorkOrderStatus
from app.domain.types import InputModel, LongText, OptionalText


class AttemptCreate(InputModel):
    result: AttemptResult
    note: OptionalText = ""
    call_again_at: AwareDatetime | None = None


class SatisfiedOutcome(InputModel):
    outcome: Literal["satisfied"]
    score: Annotated[int, Field(ge=1, le=5, description="1 (poor) to 5 (very satisfied)")]
    note: OptionalText = ""


class ProblemAction(StrEnum):
    reopen = "reopen"  # the desk dispatches the order again
    escalate = "escalate"  # the CS director must record a resolution


class ProblemOutcome(InputModel):
    outcome: Literal["problem"]
    action: ProblemAction
    note: LongText = Field(description="What the owner reported")


OutcomeCreate = Annotated[SatisfiedOutcome | ProblemOutcome, Field(discriminator="outcome")]


class ResolutionCreate(InputModel):
    resolution: LongText
    reopen: bool = Field(description="true: the order is reopened for another visit; false: its callback is closed")


class CallbackAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    at: datetime
    by: uuid.UUID | None
    result: AttemptResult
    note: str
    call_again_at: datetime | None


class CallbackRead(BaseModel):
    """A row of the desk's callback worklist: whom to ring about which repair, by when."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str = Field(description="QS-WX-2026-000123")
    order_status: WorkOrderStatus
    round: int
    technician_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    unit_label: str | None
    location: str
    category: str
    owner_name: str
    owner_phone: str
    completed_at: datetime
    due_at: datetime
    is_overdue: bool
    status: CallbackStatus
    outcome: CallbackOutcome | None
    score: int | None
    note: str
    done_at: datetime | None
    done_by: uuid.UUID | None
    overdue_at: datetime | None
    escalated_at: datetime | None
    resolution: str
    resolution_reopened: bool | None
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    attempts: int
    last_attempt_at: datetime | None
    last_attempt_result: AttemptResult | None
    call_again_at: datetime | None
    allowed_actions: list[str]


class CallbackDetail(CallbackRead):
    attempt_log: list[CallbackAttemptRead]


class RatePeriod(StrEnum):
    week = "week"
    month = "month"


class CallbackRate(BaseModel):
    """Callback rate (§6.4) of the callback rounds completed in a period."""

    estate_id: uuid.UUID
    period: RatePeriod
    label: str = Field(description="2026-W48 or 2026-11")
    start: date
    end: date = Field(description="The period's last day")
    technician_id: uuid.UUID | None
    completed: int
    done_within_7_days: int
    done_late: int
    pending: int = Field(description="Not called back yet and still inside the 7 days")
    rate: Decimal | None = Field(description="done_within_7_days / completed, 4 places; null when nothing was completed")
    target: Decimal
    meets_target: bool | None
    needed_to_reach_target: int | None = Field(description="Current week only: callbacks still needed in time for 60%")


class CallbackRateRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    week: str
    completed: int
    done_within_7_days: int
    pending: int
    rate: Decimal | None
    below_target: bool
    created_at: datetime
