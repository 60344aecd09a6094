"""What the agency desk sends and gets for rental entrustments (委托租賃, §7.3.14)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from app.domain.rentals.model import ContactPreference, Furnishing, RentalStatus
from app.domain.types import InputModel, text
from app.domain.versions import RowVersion

CENT = Decimal("0.01")
MAX_PHOTOS = 12


Rent = Annotated[Decimal, Field(gt=0, le=Decimal("9999999.99"), max_digits=9, decimal_places=2, allow_inf_nan=False,
                                description="Yuan per month, at most two decimals", examples=["3200.00"])]
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")]
Bedrooms = Annotated[int, Field(ge=0, le=20, description="室")]
Rooms = Annotated[int, Field(ge=0, le=10)]
Available = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]


class _Details(InputModel):
    asking_rent: Rent
    bedrooms: Bedrooms
    living_rooms: Rooms = Field(default=1, description="廳")
    bathrooms: Rooms = Field(default=1, description="衛")
    furnishing: Furnishing = Furnishing.basic
    available_from: Available
    contact_name: Annotated[str, text(100, min_length=0)] = Field(default="", description="Empty: the owner")
    contact_phone: Annotated[str, text(60, min_length=0)] = Field(
        default="", description="As typed; empty: the owner's number in the roster"
    )
    contact_preference: ContactPreference = ContactPreference.phone
    contact_note: Annotated[str, text(200, min_length=0)] = Field(default="", description="When and how the owner wants to be reached")
    description: Annotated[str, text(2000, min_length=0)] = ""


class EntrustmentCreate(_Details):
    unit_id: uuid.UUID
    owner_id: uuid.UUID = Field(description="An owner of the unit in the roster")


class EntrustmentUpdate(InputModel):
    """Only the fields sent change; allowed while the unit is on offer (open or reserved)."""

    asking_rent: Rent | None = None
    bedrooms: Bedrooms | None = None
    living_rooms: Rooms | None = None
    bathrooms: Rooms | None = None
    furnishing: Furnishing | None = None
    available_from: Available | None = None
    contact_name: Annotated[str, text(100, min_length=0)] | None = None
    contact_phone: Annotated[str, text(60, min_length=0)] | None = None
    contact_preference: ContactPreference | None = None
    contact_note: Annotated[str, text(200, min_length=0)] | None = None
    description: Annotated[str, text(2000, min_length=0)] | None = None


class Reserve(InputModel):
    reserved_for: Annotated[str, text(200)] = Field(description="The prospective tenant, as the agency notes them")


class Release(InputModel):
    reason: Annotated[str, text(500)] = Field(description="Why the reservation fell through")


class Let(InputModel):
    agreed_rent: Rent | None = Field(default=None, description="Default: the asking rent")


class Withdraw(InputModel):
    reason: Annotated[str, text(500)]


class RentalPhotoRead(BaseModel):
    id: uuid.UUID
    content_type: str
    size_bytes: int
    original_filename: str
    created_at: datetime


class EntrustmentRead(BaseModel):
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    unit_id: uuid.UUID
    unit_label: str
    area: Amount = Field(description="The unit's area in m², from the roster")
    owner_id: uuid.UUID
    owner_name: str
    status: RentalStatus
    asking_rent: Amount
    bedrooms: int
    living_rooms: int
    bathrooms: int
    layout: str = Field(description="As the agency writes it: 3室2廳1衛")
    furnishing: Furnishing
    available_from: date
    contact_name: str
    contact_phone: str
    contact_preference: ContactPreference
    contact_note: str
    description: str
    created_at: datetime
    updated_at: datetime | None
    reserved_at: datetime | None
    reserved_for: str
    let_at: datetime | None
    agreed_rent: Amount | None
    closed_at: datetime | None
    reason: str
    photos: list[RentalPhotoRead]
    allowed_actions: list[str]
