"""The days a unit is billed for: from its move-in, to its move-out (issue 17, proration)."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import CheckConstraint, Date
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.versions import Versioned


class UnitBillingPeriod(EstateScoped, Versioned, table=True):
    """One row per unit at most; no row (or both ends null) bills every month whole.

    The billing run bills the months that overlap [billed_from, billed_to] and prorates by days
    the months either end falls in. Charges already billed are never rewritten by a change here:
    a month billed wrongly is corrected by cancelling its charge and billing the right one.
    """

    __tablename__ = "unit_billing_period"
    __table_args__ = (CheckConstraint("billed_to IS NULL OR billed_from IS NULL OR billed_to >= billed_from",
                                      name="billed_in_order"),)

    unit_id: uuid.UUID = Field(foreign_key="unit.id", unique=True)
    billed_from: date | None = Field(default=None, sa_type=Date)  # move-in: the first day billed
    billed_to: date | None = Field(default=None, sa_type=Date)  # move-out: the last day billed
