"""What clients send to correct a charge: a cancel with its reason, and the right charge billed."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from app.domain.types import InputModel, text

Reason = Annotated[str, text(500)]
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
