"""What the voucher endpoints take and give."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.domain.repairs.model import WorkOrderStatus
from app.domain.repairs.vouchers.model import ConfirmedBy, FileKind
from app.domain.types import InputModel, LongText, Money, Name, ShortText

MAX_PHOTOS = 10
MAX_MATERIALS = 50

Quantity = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]
UnitText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^[^\x00]*$")]
OwnerCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class MaterialIn(InputModel):
    item: ShortText
    quantity: Quantity
    unit: UnitText = ""


class OwnerConfirmationIn(InputModel):
    name: Name = Field(description="The owner (or whoever was home) who confirmed the work")
    code: OwnerCode | None = Field(default=None, description="The 6-digit code the owner reads out, instead of signing")


class VoucherCreate(InputModel):
    """The `voucher` form field: JSON of what was done."""

    work_done: LongText
    materials: list[MaterialIn] = Field(default_factory=list, max_length=MAX_MATERIALS)
    minutes_spent: int = Field(ge=0, le=1440)
    chargeable: bool = False
    amount: Money = Decimal("0.00")
    is_public_area: bool | None = Field(default=None, description="Left out: as recorded on the order")
    owner_confirmation: OwnerConfirmationIn | None = None


class MaterialRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    line_no: int
    item: str
    quantity: Decimal
    unit: str
    stock_item_id: uuid.UUID | None


class VoucherFileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: FileKind
    content_type: str
    size_bytes: int
    sha256: str
    original_filename: str
    created_at: datetime


class VoucherRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    work_order_id: uuid.UUID
    work_order_number: str = Field(default="", description="QS-WX-2026-000123")
    round: int
    technician_id: uuid.UUID
    work_done: str
    minutes_spent: int
    chargeable: bool
    amount: Decimal
    is_public_area: bool
    owner_confirmed_name: str
    owner_confirmed_by: ConfirmedBy
    posted_at: datetime
    posted_on_device_at: datetime | None = Field(
        default=None, description="When the technician's phone says the work was finished (X-Device-Time), for a "
                                  "voucher queued offline; posted_at is when the server received it")
    materials: list[MaterialRead] = []
    files: list[VoucherFileRead] = []


class VoucherPosted(VoucherRead):
    """The voucher, and what posting it did: the order completed and its callback scheduled."""

    order_status: WorkOrderStatus
    callback_id: uuid.UUID
    callback_due_at: datetime


class OwnerCodeRead(BaseModel):
    """Where the order's owner code stands. Never the code: the desk sees it once, when issuing it."""

    work_order_id: uuid.UUID
    status: Literal["active", "expired", "consumed", "locked"]
    issued_at: datetime
    expires_at: datetime
    failed_attempts: int
    attempts_left: int
    locked_at: datetime | None
    consumed_at: datetime | None


class OwnerCodeIssued(OwnerCodeRead):
    code: str = Field(description="Shown this once. Sent to the owner by SMS as well; the owner reads it out to the "
                                  "technician when the work is done")
    owners_texted: int = Field(description="How many owners of the unit the SMS goes to (0: tell the owner by phone)")
