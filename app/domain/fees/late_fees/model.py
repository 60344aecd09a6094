"""The estate's late-fee rule (滞纳金规则), versioned by the day it applies from, like prices.

One rule is in force on a day: the latest whose `effective_from` is on or before it. A charge
falls under the rule in force on its due date, and only when the rule names its fee item:
changing the rule later never changes what an old charge accrues.
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import ARRAY, CheckConstraint, Column, Date, Numeric, UniqueConstraint, Uuid
from sqlmodel import Field

from app.domain.base import EstateScoped


class LateFeeRule(EstateScoped, table=True):
    __tablename__ = "late_fee_rule"
    __table_args__ = (
        UniqueConstraint("estate_id", "effective_from"),
        CheckConstraint("daily_rate >= 0 AND daily_rate <= 1", name="daily_rate_share"),
        CheckConstraint("grace_days >= 0", name="grace_days_not_negative"),
        CheckConstraint("cap_share IS NULL OR (cap_share >= 0 AND cap_share <= 1)", name="cap_share_share"),
    )

    effective_from: date = Field(sa_type=Date)
    daily_rate: Decimal = Field(sa_type=Numeric(8, 6))  # 0.0005 = 0.05% of the unpaid amount a day
    grace_days: int = 0
    cap_share: Decimal | None = Field(default=None, sa_type=Numeric(5, 4))  # of the charge's amount; null: no cap
    # The fee items whose charges accrue late fees under this rule; others accrue none.
    fee_item_ids: list[uuid.UUID] = Field(default_factory=list, sa_column=Column(ARRAY(Uuid()), nullable=False))
