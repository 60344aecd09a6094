"""What clients send to correct a charge: a cancel with its reason, and the right charge billed;
and the requests to cancel a paid one, awaiting approval."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from app.domain.fees.corrections.model import CancellationState
from app.domain.types import InputModel, text

Reason = Annotated[str, text(500)]
# Out: amounts always carry two places ("223.00").
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(Decimal("0.01"))), return_type=str, when_used="json")]
Description = Annotated[str, text(200)]
PositiveMoney = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False,
                                         description="Yuan, two places at most")]


class ChargeCancel(InputModel):
    reason: Reason = Field(description="Why the charge was wrong: kept on the charge and in the trail")


class ChargeRebill(InputModel):
    amount: PositiveMoney | None = Field(
        default=None, description="The right amount; left out, a billing-run charge is recomputed as the run would bill it now "
                                  "(the unit's area, billing period and subscription; the month's price)")
    description: Description | None = Field(default=None, description="Left out: the cancelled charge's")


class MonthCorrections(BaseModel):
    """The month's corrected charges (of the month as `billed` counts them: by period, one-offs by due date)."""

    cancelled_count: int = Field(default=0, description="The month's charges cancelled")
    cancelled_amount: Amount = Field(default=Decimal("0.00"), description="What they had billed; not in `billed`")
    replacements_count: int = 0
    replacements_amount: Amount = Field(default=Decimal("0.00"), description="The open charges billed in their place; in `billed`")
    net_effect: Amount = Field(default=Decimal("0.00"), description="replacements_amount - cancelled_amount")


class CancellationDecision(InputModel):
    """Why: required to reject or withdraw; optional to approve."""

    reason: Annotated[str, text(500, min_length=0)] = ""


class ChargeCancellationRead(BaseModel):
    """A request to cancel a charge money was paid on, and how it was decided."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    charge_id: uuid.UUID
    unit_id: uuid.UUID
    reason: str
    amount_paid: Amount = Field(description="Paid on the charge and its open late fees when asked: moved to the unit's "
                                            "prepaid account on approval")
    status: CancellationState
    requested_by: uuid.UUID | None
    created_at: datetime
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_reason: str
    allowed_actions: list[str] = Field(default_factory=list)


class ChargeCancellationList(BaseModel):
    items: list[ChargeCancellationRead]
    total: int
    limit: int
    offset: int
