"""What clients send to and get from the registry: estates, jurisdictions, buildings, units, owners."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from app.domain.calendar import estate_time
from app.domain.registry.model import DEFAULT_RECEIPT_COPIES, DEFAULT_SCRIPT, ReceiptCopy, Script, Title
from app.domain.types import Area, Code, InputModel, Name, Patch, PhoneText, no_nul, text
from app.domain.versions import RowVersion


def _zone(value: str) -> str:
    if not estate_time.is_zone(value):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai")
    return value


def _naive(value: time) -> time:
    # Office hours are wall-clock times in the estate's own zone; an offset would be ambiguous.
    if value.tzinfo is not None:
        raise ValueError("give the time without a UTC offset; the estate's time_zone applies")
    return value


TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(no_nul), AfterValidator(_zone)]
# JSON Schema's "time" format demands a UTC offset; office hours are wall-clock times, so
# they travel as "08:00" and are described by a pattern instead.
_WALL_CLOCK = WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "examples": ["08:00"]})
OfficeTime = Annotated[
    time, AfterValidator(_naive), PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"), _WALL_CLOCK
]
def _distinct(copies: list[ReceiptCopy]) -> list[ReceiptCopy]:
    if len(set(copies)) != len(copies):
        raise ValueError("name each copy once")
    return copies


ReceiptCopies = Annotated[list[ReceiptCopy], Field(min_length=1, max_length=len(ReceiptCopy)), AfterValidator(_distinct)]
ReceiptNote = Annotated[str, text(200, min_length=0)]
BuildingName = Annotated[str, text(40)]
RoomNumber = Annotated[str, text(20)]
Entrance = Annotated[str, text(20, min_length=0)]
Note = Annotated[str, text(200, min_length=0)]
Surname = Annotated[str, text(20)]
Floor = Annotated[int, Field(ge=-20, le=300)]
BuildingNumber = Annotated[int, Field(ge=0, le=100_000)]



# --- estates ---------------------------------------------------------------------------


class OfficeHours(BaseModel):
    morning_open: OfficeTime = time(8, 0)
    morning_close: OfficeTime = time(12, 0)
    afternoon_open: OfficeTime = time(14, 0)
    afternoon_close: OfficeTime = time(18, 0)


SCRIPT_CHOICE = ("The characters of the estate's scripts, notifications, unit labels and documents: "
                 "simplified (简体, the default) or traditional (繁體)")


class EstateCreate(OfficeHours, InputModel):
    name: Name
    office_name: Name = Field(description="Used in the phone greeting (§7.3.3): 您好！淇水春天管理處，請講")
    code: Code = Field(description="Prefix of receipt numbers and other estate documents, e.g. QS")
    time_zone: TimeZone = "Asia/Shanghai"
    receipt_copies: ReceiptCopies = Field(default_factory=lambda: list(DEFAULT_RECEIPT_COPIES),
                                          description="The copies a receipt prints, in this order, as one PDF")
    receipt_note: ReceiptNote = Field(default="", description="Printed on every receipt, e.g. 此收据不作报销凭证")
    script: Script = Field(default=DEFAULT_SCRIPT, description=SCRIPT_CHOICE)


class EstateUpdate(Patch):
    name: Name | None = None
    office_name: Name | None = None
    code: Code | None = None
    time_zone: TimeZone | None = None
    morning_open: OfficeTime | None = None
    morning_close: OfficeTime | None = None
    afternoon_open: OfficeTime | None = None
    afternoon_close: OfficeTime | None = None
    receipt_copies: ReceiptCopies | None = Field(
        default=None, description="The copies a receipt prints, in this order, as one PDF: 存根联, 交款人联, 记账联")
    receipt_note: ReceiptNote | None = Field(default=None, description="Printed on every receipt; empty for none")
    script: Script | None = Field(default=None, description=SCRIPT_CHOICE)


class EstateClose(InputModel):
    reason: Annotated[str, text(500)] = Field(description="Why the office stops managing the estate (kept in the audit trail)")


class EstateRead(OfficeHours):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    company_id: uuid.UUID
    name: str
    office_name: str
    code: str
    time_zone: str
    script: Script
    created_at: datetime
    closed_at: datetime | None = Field(default=None, description="Set once the estate is closed: read-only from then on")
    closed_reason: str | None = None
    receipt_copies: list[ReceiptCopy]
    receipt_note: str


# --- jurisdictions and buildings -------------------------------------------------------


class JurisdictionCreate(InputModel):
    name: Name
    manager_id: uuid.UUID | None = Field(default=None, description="A user with the manager role in this estate")


class JurisdictionUpdate(Patch):
    nullable = frozenset({"manager_id"})
    name: Name | None = None
    manager_id: uuid.UUID | None = None


class JurisdictionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    name: str
    manager_id: uuid.UUID | None
    created_at: datetime


class BuildingCreate(InputModel):
    name: BuildingName = Field(description="As the office writes it: 8号楼")
    number: BuildingNumber | None = Field(default=None, description="8, for sorting; the label uses the name (8号楼)")
    jurisdiction_id: uuid.UUID | None = None


class BuildingUpdate(Patch):
    nullable = frozenset({"number", "jurisdiction_id"})
    name: BuildingName | None = None
    number: BuildingNumber | None = None
    jurisdiction_id: uuid.UUID | None = None


class BuildingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    name: str
    number: int | None
    jurisdiction_id: uuid.UUID | None
    created_at: datetime


# --- units -----------------------------------------------------------------------------


class UnitCreate(InputModel):
    building_id: uuid.UUID
    entrance: Entrance = Field(default="", description='单元: "2"; empty when the building has one entrance')
    number: RoomNumber = Field(description="Room: 301")
    floor: Floor | None = None
    area: Area = Field(description="m², fees are billed per m²")
    is_public: bool = Field(default=False, description="Common parts: stairwells, lift rooms, the clubhouse")
    is_vacant: bool = False
    note: Note = ""


class UnitUpdate(Patch):
    nullable = frozenset({"floor"})
    entrance: Entrance | None = None
    number: RoomNumber | None = None
    floor: Floor | None = None
    area: Area | None = None
    is_public: bool | None = None
    is_vacant: bool | None = None
    note: Note | None = None


class UnitRead(BaseModel):
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    building_id: uuid.UUID
    building_name: str
    entrance: str
    number: str
    label: str = Field(description="The unit as every list, script and document writes it, in the estate's characters: 8号楼2单元301")
    floor: int | None
    area: Decimal
    is_public: bool
    is_vacant: bool
    note: str
    created_at: datetime


# --- owners ----------------------------------------------------------------------------


class UnitLink(InputModel):
    unit_id: uuid.UUID
    is_primary: bool = Field(default=True, description="False for a co-owner listed after the main owner")


class PhoneCreate(InputModel):
    phone: PhoneText = Field(description="As typed: spaces, dashes, +86 and full-width digits are fine")


class OwnerCreate(InputModel):
    full_name: Name
    surname: Surname | None = Field(
        default=None, description="Derived from full_name when left out (欧阳 and other compound surnames kept whole)"
    )
    title: Title | None = Field(default=None, description="先生 or 女士, for the scripts: 王先生")
    note: Note = ""
    phones: list[PhoneText] = Field(default_factory=list, max_length=10)
    units: list[UnitLink] = Field(default_factory=list, max_length=50)


class OwnerUpdate(Patch):
    nullable = frozenset({"title"})
    full_name: Name | None = Field(default=None, description="Changing the name re-derives the surname unless surname is sent too")
    surname: Surname | None = None
    title: Title | None = None
    note: Note | None = None


class OwnerPhoneRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    phone: str = Field(description="Digits only, as a caller id shows it")
    raw: str = Field(description="As typed")


class OwnerUnitRead(BaseModel):
    unit_id: uuid.UUID
    building_id: uuid.UUID
    building_name: str
    entrance: str
    number: str
    label: str = Field(description="The unit as every list, script and document writes it, in the estate's characters: 8号楼2单元301")
    is_primary: bool


class OwnerRead(BaseModel):
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    full_name: str
    surname: str
    title: Title | None
    addressed_as: str = Field(description="How the scripts address the owner: 王先生")
    note: str
    created_at: datetime
    phones: list[OwnerPhoneRead]
    units: list[OwnerUnitRead]


_Yuan = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(Decimal("0.01"))), return_type=str, when_used="json")]


class UnitArrearsBrief(BaseModel):
    unit_id: uuid.UUID
    label: str = Field(description="The unit as every list, script and document writes it, in the estate's characters: 8号楼2单元301")
    outstanding: _Yuan
    oldest_due_date: date


class CallerArrears(BaseModel):
    """What the owner's units owe now: charges past or at their due date, late fees not included."""

    total: _Yuan
    oldest_due_date: date | None = Field(description="The earliest unpaid due date; null: nothing owed")
    units: list[UnitArrearsBrief] = Field(description="Only the units that owe anything")


class CallerOwner(OwnerRead):
    open_requests: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The owner's open service requests.",
    )
    arrears: CallerArrears | None = Field(
        default=None,
        description="What the owner's units owe (total 0.00 when nothing); null when your role may not read fees.",
    )


class CallerLookup(BaseModel):
    phone: str = Field(description="The number as normalised for the search: digits only")
    owners: list[CallerOwner]
