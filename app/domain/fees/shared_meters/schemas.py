"""What clients send to and get from shared meters, their readings and splits."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from app.domain.fees.billing.schemas import Amount, Month, Reading
from app.domain.fees.shared_meters.model import SplitMethod, SplitStatus
from app.domain.types import InputModel, Name, ShortText

FixedShare = Annotated[Decimal, Field(gt=0, le=1, max_digits=7, decimal_places=6, allow_inf_nan=False,
                                      description="Up to 6 places; a meter's shares add up to exactly 1")]


class ShareIn(InputModel):
    unit_id: uuid.UUID
    share: FixedShare


class SharedMeterCreate(InputModel):
    name: Name = Field(examples=["8号楼总水表"])
    building_id: uuid.UUID | None = Field(default=None, description="null: a meter of the whole estate")
    fee_item_id: uuid.UUID = Field(description="The metered item the shares are billed under (公摊水费)")
    method: SplitMethod
    subtract_unit_meters: bool = Field(default=False, description="Take the units' own readings of the period off first")
    unit_meter_item_id: uuid.UUID | None = Field(
        default=None, description="The metered item the units' own meters are read under; null: fee_item_id")
    shares: list[ShareIn] = Field(default_factory=list, max_length=2000, description="fixed_share only: every unit's share")


# At the column's scale, so the answer to a POST reads as every later GET does.
StoredShare = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(Decimal("0.000001"))),
                                                 return_type=str, when_used="json")]


class ShareRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    unit_id: uuid.UUID
    share: StoredShare


class SharedMeterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    name: str
    building_id: uuid.UUID | None
    fee_item_id: uuid.UUID
    method: SplitMethod
    subtract_unit_meters: bool
    unit_meter_item_id: uuid.UUID | None
    active: bool
    shares: list[ShareRead] = []
    created_at: datetime


class SharedReadingCreate(InputModel):
    period: Month
    current: Reading
    previous: Reading | None = Field(default=None, description="Defaults to the meter's last reading")


class SplitLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_label: str
    factor: Decimal = Field(description="The unit's area, 1 (household) or its agreed share")
    exact: Decimal = Field(description="total × factor / factor_total before rounding")
    amount: Amount
    adjustment: Amount = Field(description="The fen given (+0.01) or taken (−0.01) so the lines sum to the total")
    charge_id: uuid.UUID | None


class SplitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    shared_meter_id: uuid.UUID
    reading_id: uuid.UUID
    period: str
    status: SplitStatus
    method: SplitMethod
    previous: Decimal
    current: Decimal
    meter_usage: Decimal
    own_usage: Decimal = Field(description="The units' own readings taken off; 0 when not subtracted")
    usage: Decimal
    rate: Decimal
    total: Amount
    factor_total: Decimal = Field(description="Σ area, the number of units, or Σ shares (1)")
    recorded_by: uuid.UUID
    approved_by: uuid.UUID | None
    approved_at: datetime | None
    billed_at: datetime | None
    discarded_at: datetime | None
    discard_reason: str
    lines: list[SplitLineRead]


class SplitBilled(BaseModel):
    split: SplitRead
    created: int = Field(description="Charges made now; 0 when the split was billed before")


class SplitDiscard(InputModel):
    reason: ShortText


class SharedShare(BaseModel):
    """A unit's share of a shared meter's reading, as billed (the bill explanation's `shared`)."""

    shared_meter: str = Field(description="The meter's name: 8号楼总水表")
    split_method: SplitMethod
    meter_usage: str = Field(description="current − previous of the shared meter")
    own_usage: str = Field(description="The units' own meters taken off; 0 when not subtracted")
    total_usage: str = Field(description="What was shared: meter_usage − own_usage")
    total: Amount = Field(description="total_usage × rate: what every unit's share adds up to")
    factor: str = Field(description="This unit's area (㎡), 1 (household) or its agreed share")
    factor_total: str = Field(description="Σ area, the number of units, or 1")
    adjustment: Amount = Field(description="The fen given or taken so the shares add up to the total")
