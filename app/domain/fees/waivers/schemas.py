"""What clients send to and get from waivers (减免) and discount rules."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.fees.billing.schemas import Amount, Month
from app.domain.fees.waivers.model import FREE_MAX, PREPAY_MAX, RuleKind, WaiverKind, WaiverState
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
    value: WaiverValue | None = Field(default=None, description="amount: yuan off each charge; percentage and vacant_unit: "
                                      "percent off; required for those, not given for prepay_months (it waives in full)")
    prepay_months: int | None = Field(default=None, ge=1, le=PREPAY_MAX, description="prepay_months only: N months paid ahead")
    free_months: int | None = Field(default=None, ge=1, le=FREE_MAX,
                                    description="prepay_months only: M months after them waived in full (M <= N)")
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
    prepay_months: int | None
    free_months: int | None


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


class PrepayGrantCreate(InputModel):
    """The desk grants a prepay rule to a unit whose owner has just paid N months ahead."""

    unit_id: uuid.UUID
    receipt_id: uuid.UUID = Field(description="The deposit's receipt (QS-D series), earmarked for the rule's fee item")
    first_month: Month = Field(description="The first of the N months the deposit pays; the deposit's month or later")


class PrepayGrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    rule_id: uuid.UUID
    unit_id: uuid.UUID
    receipt_id: uuid.UUID
    first_month: str
    prepaid_months: list[str] = Field(description="The N months the deposit pays")
    free_months: list[str] = Field(description="The M months after them, waived in full when billed")
    monthly_amount: Amount = Field(description="The unit's monthly charge of the item in first_month")
    required_amount: Amount = Field(description="N × monthly_amount")
    earmarked_amount: Amount = Field(description="What the deposit set aside for the item")
    granted_by: uuid.UUID | None
    created_at: datetime
    waived_now: list[RuleApplied] = Field(default_factory=list,
                                          description="Free months billed already, waived as the grant was made")
