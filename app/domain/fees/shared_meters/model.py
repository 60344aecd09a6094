"""Shared meters (公摊): a building's or the estate's meter, its monthly readings, and the split
of each reading over the units, approved by a second person before it is billed.

A split is the aggregate: draft (recorded, previewed) → approved → billed, or draft →
discarded. Its lines (one per unit) are fixed when the split is made, so what is approved is
exactly what is billed; each line becomes one charge whose source_id is the line's id.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, UniqueConstraint, text
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Conflict, Invalid
from app.domain.transitions import TransitionTable


class SplitMethod(StrEnum):
    area = "area"  # by the units' area: unit.area / Σ area
    household = "household"  # equally over the units
    fixed_share = "fixed_share"  # by agreed shares summing to 1 (shared_meter_share)


class SharedMeter(EstateScoped, table=True):
    __tablename__ = "shared_meter"
    __table_args__ = (
        UniqueConstraint("estate_id", "name"),
        CheckConstraint("method IN ('area', 'household', 'fixed_share')", name="method_known"),
    )

    name: str = Field(max_length=100)  # 8号楼总水表
    building_id: uuid.UUID | None = Field(default=None, foreign_key="building.id", index=True)  # null: the whole estate
    fee_item_id: uuid.UUID = Field(foreign_key="fee_item.id", index=True)  # the metered item billed (公摊水费)
    method: SplitMethod = Field(sa_type=String(20))
    subtract_unit_meters: bool = False
    # Whose unit readings are taken off the total: the units' own water meters are usually read
    # under the water item while the remainder is billed as 公摊水费. Null: the meter's own item.
    unit_meter_item_id: uuid.UUID | None = Field(default=None, foreign_key="fee_item.id")
    active: bool = True


class SharedMeterShare(EstateScoped, table=True):
    """A unit's agreed share of a fixed_share meter."""

    __tablename__ = "shared_meter_share"
    __table_args__ = (
        UniqueConstraint("shared_meter_id", "unit_id"),
        CheckConstraint("share > 0 AND share <= 1", name="share_in_range"),
    )

    shared_meter_id: uuid.UUID = Field(foreign_key="shared_meter.id")  # led by the unique (meter, unit)
    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    share: Decimal = Field(sa_type=Numeric(7, 6))


class SharedMeterReading(EstateScoped, table=True):
    """One period's reading of a shared meter; a corrected reading is a new row (its split discarded)."""

    __tablename__ = "shared_meter_reading"
    __table_args__ = (
        CheckConstraint("current >= previous", name="reading_not_backwards"),
        CheckConstraint("previous >= 0", name="reading_not_negative"),
        Index("ix_shared_meter_reading_meter_period", "shared_meter_id", "period"),
    )

    shared_meter_id: uuid.UUID = Field(foreign_key="shared_meter.id")
    period: str = Field(max_length=7)  # 'YYYY-MM'
    previous: Decimal = Field(sa_type=Numeric(12, 2))
    current: Decimal = Field(sa_type=Numeric(12, 2))
    read_at: datetime = Field(sa_type=DateTime(timezone=True))
    read_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")


class SplitStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    billed = "billed"
    discarded = "discarded"


SPLIT_TRANSITIONS: TransitionTable[SplitStatus] = TransitionTable("shared_meter_split", {
    (SplitStatus.draft, "approve"): SplitStatus.approved,
    (SplitStatus.draft, "discard"): SplitStatus.discarded,
    (SplitStatus.approved, "bill"): SplitStatus.billed,
})


class ApproverIsRecorder(Conflict):
    title = "A split is approved by someone other than the person who recorded its reading"
    title_zh = "公摊分摊须由抄表人以外的人审批"


class DiscardNeedsReason(Invalid):
    title = "Discarding a split needs a reason"
    title_zh = "作废公摊分摊须注明原因"


class SharedMeterSplit(EstateScoped, table=True):
    __tablename__ = "shared_meter_split"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'approved', 'billed', 'discarded')", name="status_known"),
        CheckConstraint("usage >= 0 AND total >= 0", name="not_negative"),
        CheckConstraint("status <> 'discarded' OR discard_reason <> ''", name="discard_has_reason"),
        # One live split per meter and period: a wrong reading is discarded before it is read again.
        Index("uq_shared_meter_split_live", "shared_meter_id", "period", unique=True,
              postgresql_where=text("status <> 'discarded'")),
    )

    shared_meter_id: uuid.UUID = Field(foreign_key="shared_meter.id", index=True)
    reading_id: uuid.UUID = Field(foreign_key="shared_meter_reading.id", unique=True)
    period: str = Field(max_length=7)
    status: SplitStatus = Field(default=SplitStatus.draft, sa_type=String(20))
    method: SplitMethod = Field(sa_type=String(20))
    meter_usage: Decimal = Field(sa_type=Numeric(12, 2))  # current - previous
    own_usage: Decimal = Field(sa_type=Numeric(12, 2))  # Σ the units' own readings taken off (0 when not subtracted)
    usage: Decimal = Field(sa_type=Numeric(12, 2))  # what is shared
    rate: Decimal = Field(sa_type=Numeric(12, 4))  # price in force on the period's first day
    total: Decimal = Field(sa_type=Numeric(12, 2))  # usage × rate, rounded; the lines sum to it
    factor_total: Decimal = Field(sa_type=Numeric(14, 6))  # Σ area, the number of units, or Σ shares
    recorded_by: uuid.UUID = Field(foreign_key="user.id")
    approved_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    approved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    billed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    discarded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    discard_reason: str = Field(default="", max_length=500)

    transitions: ClassVar[TransitionTable[SplitStatus]] = SPLIT_TRANSITIONS

    def _move(self, action: str) -> None:
        self.status = SPLIT_TRANSITIONS.next_state(SplitStatus(self.status), action)

    def approve(self, *, by: uuid.UUID, at: datetime) -> None:
        """Four eyes: whoever recorded the reading cannot also approve what it bills."""
        SPLIT_TRANSITIONS.next_state(SplitStatus(self.status), "approve")
        if by == self.recorded_by:
            raise ApproverIsRecorder(field="approved_by")
        self._move("approve")
        self.approved_by, self.approved_at = by, at

    def discard(self, *, reason: str, at: datetime) -> None:
        SPLIT_TRANSITIONS.next_state(SplitStatus(self.status), "discard")
        if not reason.strip():
            raise DiscardNeedsReason(field="reason")
        self._move("discard")
        self.discard_reason, self.discarded_at = reason, at

    def bill(self, *, at: datetime) -> None:
        self._move("bill")
        self.billed_at = at


class SharedMeterSplitLine(EstateScoped, table=True):
    """One unit's part of a split; billed, it is the source of the unit's charge."""

    __tablename__ = "shared_meter_split_line"
    __table_args__ = (
        UniqueConstraint("split_id", "unit_id"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    split_id: uuid.UUID = Field(foreign_key="shared_meter_split.id")  # led by the unique (split, unit)
    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    factor: Decimal = Field(sa_type=Numeric(14, 6))  # the unit's area, 1, or its share
    exact: Decimal = Field(sa_type=Numeric(16, 6))  # total × factor / factor_total before rounding
    amount: Decimal = Field(sa_type=Numeric(12, 2))  # rounded, remainder cents assigned
    adjustment: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(12, 2))  # ±0.01 from the largest remainder
    charge_id: uuid.UUID | None = Field(default=None, foreign_key="charge.id")
