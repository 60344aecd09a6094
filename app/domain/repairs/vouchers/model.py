"""Completion vouchers (維修憑證): what the technician did, signed off by the owner."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped


class ConfirmedBy(StrEnum):
    signature = "signature"  # the owner signed on the technician's phone (or a scanned sheet)
    code = "code"  # the owner read out the one-time code sent by SMS (owner_code.py); the code is not kept
    none = "none"  # a public-area repair: nobody to sign


class FileKind(StrEnum):
    photo = "photo"
    signature = "signature"


class Voucher(EstateScoped, table=True):
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("chargeable OR amount = 0", name="free_means_zero"),
        CheckConstraint("minutes_spent >= 0", name="minutes_not_negative"),
        # One voucher per completion round: two posts racing for one order cannot both land.
        UniqueConstraint("work_order_id", "round", name="uq_voucher_work_order_round"),
        Index("ix_voucher_estate_posted", "estate_id", "posted_at"),
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
    owner_confirmed_by: ConfirmedBy = Field(default=ConfirmedBy.none, sa_type=String(20))
    posted_at: datetime = Field(sa_type=DateTime(timezone=True))
    # When the phone says the work was finished, for a voucher queued offline and sent later.
    posted_on_device_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class VoucherMaterial(EstateScoped, table=True):
    """One material line, kept structured (item, quantity, unit) so stock can be issued against it."""

    __tablename__ = "voucher_material"
    __table_args__ = (
        UniqueConstraint("voucher_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    voucher_id: uuid.UUID = Field(foreign_key="voucher.id", index=True)
    line_no: int
    item: str = Field(max_length=200)
    quantity: Decimal = Field(sa_type=Numeric(10, 2))
    unit: str = Field(default="", max_length=20)
    stock_item_id: uuid.UUID | None = None  # set when the stock area issues it


class VoucherFile(EstateScoped, table=True):
    """A photo or the owner's signature; the bytes live under the upload directory."""

    __tablename__ = "voucher_file"
    __table_args__ = (CheckConstraint("kind IN ('photo', 'signature')", name="kind_known"),
                      CheckConstraint("size_bytes > 0", name="size_positive"))

    voucher_id: uuid.UUID = Field(foreign_key="voucher.id", index=True)
    kind: FileKind = Field(sa_type=String(20))
    content_type: str = Field(max_length=50)  # sniffed from the bytes, never the client's word
    size_bytes: int
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=300)  # relative to the upload directory
    original_filename: str = Field(default="", max_length=200)  # as the phone named it; shown only
