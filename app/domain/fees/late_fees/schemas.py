"""What clients send to and get from the late-fee rules and postings."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.fees.billing.schemas import Amount, DailyRate, Days, Share
from app.domain.types import InputModel


class LateFeeRuleCreate(InputModel):
    effective_from: date = Field(description="Charges falling due on or after this day accrue under this rule")
    daily_rate: DailyRate
    grace_days: Days = 0
    cap_share: Share | None = Field(default=None, description="At most this share of the charge's amount; null: no cap")
    fee_item_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)] = Field(
        description="The estate's fee items whose charges accrue late fees")


class LateFeeRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    effective_from: date
    daily_rate: Decimal
    grace_days: int
    cap_share: Decimal | None
    fee_item_ids: list[uuid.UUID]
    created_at: datetime


class PostedLateFee(BaseModel):
    """A late fee posted as a charge of its own (滞纳金), on the charge paid late."""

    charge_id: uuid.UUID
    late_fee_of: uuid.UUID
    description: str
    amount: Amount
    due_date: date
    explanation: str


class LateFeePosting(BaseModel):
    unit_id: uuid.UUID
    as_of: date = Field(description="Estate-local day the late fees were accrued to")
    posted: list[PostedLateFee] = Field(description="Empty when nothing more had accrued: posting twice posts nothing")
    total: Amount
