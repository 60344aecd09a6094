"""Completion vouchers (維修憑證): what the technician did, signed off by the owner."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, Numeric
from sqlmodel import Field

from app.domain.base import EstateScoped


class Voucher(EstateScoped, table=True):
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("chargeable OR amount = 0", name="free_means_zero"),
        CheckConstraint("minutes_spent >= 0", name="minutes_not_negative"),
    )

    work_order_id: uuid.UUID = Field(foreign_key="work_order.id", index=True)
    round: int = 1  # completion round of the order (a reopened order gets a second voucher)
    technician_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    work_done: str = Field(max_length=4000)
    minutes_spent: int = 0
    chargeable: bool = False
    amount: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(12, 2))
    # Public-area vouchers go to the records clerk at month end; in-unit ones to the manager.
    is_public_area: bool = False
    owner_confirmed_name: str = Field(default="", max_length=100)
    confirmation_code: str = Field(default="", max_length=20)
    posted_at: datetime = Field(sa_type=DateTime(timezone=True))
