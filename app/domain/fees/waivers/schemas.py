"""What clients send to and get from waivers (减免) and discount rules."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.fees.billing.schemas import Amount, Month
from app.domain.fees.waivers.model import RuleKind, WaiverKind, WaiverState
from app.domain.types import InputModel, text

# Yuan off, or a percent (10 = 10% off): the kind says which; a percent is at most 100.
WaiverValue = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False, examples=["50.00"]),
]
Reason = Annotated[str, text(500)]
OptionalReason = Annotated[str, text(500, min_length=0)]


class WaiverCreate(InputModel):
    kind: WaiverKind
    value: WaiverValue = Field(description="amount: yuan off; percentage: percent of the billed amount (10 = 10%)")
    reason: Reason = Field(examples=["维修延误补偿"])


class Decision(InputModel):
    """Why: required to reject, withdraw or reverse; optional to approve."""

    reason: OptionalReason = ""


class WaiverRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    charge_id: uuid.UUID
    unit_id: uuid.UUID
    kind: WaiverKind
    value: Amount
    amount: Amount = Field(description="What comes off the charge, 2 places, half up")
    reason: str
    status: WaiverState
    requested_by: uuid.UUID | None
    created_at: datetime
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_reason: str
    rule_id: uuid.UUID | None = Field(description="Set when a discount rule made it")
    allowed_actions: list[str] = Field(default_factory=list)


class WaiverList(BaseModel):
    items: list[WaiverRead]
    total: int
    limit: int
    offset: int


class DiscountRuleCreate(InputModel):
    fee_item_id: uuid.UUID
    kind: RuleKind
    value: WaiverValue = Field(description="amount: yuan off each charge; percentage and vacant_unit: percent off")
    unit_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=5000,
                                             description="These units; or give building_id; neither: every unit")
    building_id: uuid.UUID | None = None
    from_month: Month
    to_month: Month | None = None
    reason: Reason = Field(examples=["空置房优惠"])


class DiscountRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    fee_item_id: uuid.UUID
    kind: RuleKind
    value: Amount
    unit_ids: list[uuid.UUID] | None
    building_id: uuid.UUID | None
    from_month: str
    to_month: str | None
    reason: str
    status: WaiverState
    requested_by: uuid.UUID | None
    created_at: datetime
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_reason: str


class RuleApply(InputModel):
    month: Month


class RuleApplied(BaseModel):
    rule_id: uuid.UUID
    month: str
    waivers_created: int = Field(description="New waiver lines; charges the rule waived before are not counted again")
    total_waived: Amount


class WaiverOfLine(BaseModel):
    """An approved waiver on a bill line or a receipt, as the desk reads it out."""

    waiver_id: uuid.UUID
    amount: Amount
    reason: str
    approved_at: datetime | None
    rule_id: uuid.UUID | None
    text: str = Field(description="减免 50.00元（空置房优惠）")
