"""What clients send to and get from a unit's billing period."""
from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from app.domain.types import InputModel
from app.domain.versions import RowVersion


class BillingPeriodPut(InputModel):
    billed_from: date | None = Field(default=None, description="Move-in: the first day billed; null: from the start")
    billed_to: date | None = Field(default=None, description="Move-out: the last day billed; null: until further notice")


class BillingPeriodRead(BaseModel):
    unit_id: uuid.UUID
    version: RowVersion
    billed_from: date | None
    billed_to: date | None
