"""The registry's tables: the company and its estates, and the owner roster (業主名冊):
buildings, units, owners and their phones, jurisdictions. Company-wide tables stay small."""
from __future__ import annotations

import uuid
from datetime import datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import ARRAY, CheckConstraint, DateTime, Numeric, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.domain.base import Entity, EstateScoped
from app.domain.registry.errors import EstateClosed
from app.domain.transitions import TransitionTable
from app.domain.types import Code, Name
from app.domain.versions import Versioned


class Company(Entity, Versioned, table=True):
    # The short name the office goes by (祥瑞物業); receipts and notices print the legal name.
    name: str = Field(max_length=100)
    # Empty only for companies made before the office details were kept.
    legal_name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=60)
    # 统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character.
    credit_code: str | None = Field(default=None, max_length=18, unique=True)


class EstateBase(SQLModel):
    name: Name = Field(max_length=100)
    # Used in the phone greeting (§7.3.3): 「您好！淇水春天管理處，請講」
    office_name: Name = Field(max_length=100)
    # Prefix of receipt numbers and other estate documents, e.g. QS.
    code: Code = Field(max_length=40)
    time_zone: str = Field(default="Asia/Shanghai", max_length=64)


class Script(StrEnum):
    """Which characters an estate's scripts and documents are written in (see script.py)."""

    simplified = "simplified"
    traditional = "traditional"


DEFAULT_SCRIPT = Script.simplified


class EstateStatus(StrEnum):
    """Read from `closed_at`: the estate keeps no status column."""

    open = "open"
    closed = "closed"


ESTATE_TRANSITIONS: TransitionTable[EstateStatus] = TransitionTable("estate", {
    (EstateStatus.open, "close"): EstateStatus.closed,
})


class ReceiptCopy(StrEnum):
    """The parts of a three-part receipt form (三联收据), as printed on each copy."""

    stub = "存根联"  # stays in the office's book
    payer = "交款人联"  # handed to whoever paid
    accounts = "记账联"  # goes to finance with the day's takings (§5.4)


# A desk issuing paper receipts keeps all three parts: the stub for its book, the payer's copy,
# and the accounting copy finance counts the takings against at hand-over.
DEFAULT_RECEIPT_COPIES = (ReceiptCopy.stub, ReceiptCopy.payer, ReceiptCopy.accounts)
RECEIPT_COPIES_SQL = "'{" + ",".join(c.value for c in DEFAULT_RECEIPT_COPIES) + "}'::varchar(10)[]"


class Estate(EstateBase, Entity, Versioned, table=True):
    __table_args__ = (CheckConstraint("script IN ('simplified', 'traditional')", name="script_known"),)
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True)
    # Office hours (§5.1): 8:00-12:00 and 14:00-18:00 unless the estate says otherwise.
    morning_open: time = Field(default=time(8, 0))
    morning_close: time = Field(default=time(12, 0))
    afternoon_open: time = Field(default=time(14, 0))
    afternoon_close: time = Field(default=time(18, 0))
    # Simplified or traditional characters for every sentence the estate's staff and owners read.
    script: Script = Field(default=DEFAULT_SCRIPT, sa_type=String(12))
    # A closed estate keeps its history and reports but takes no new records (see closing.py).
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    closed_reason: str | None = Field(default=None, max_length=500)
    # The copies a receipt prints, in this order, as one PDF; and the line printed under it.
    # Server defaults too, so rows written in bulk (the benchmarks' COPY) need not name them.
    receipt_copies: list[str] = Field(default_factory=lambda: [c.value for c in DEFAULT_RECEIPT_COPIES],
                                      sa_type=ARRAY(String(10)), nullable=False,
                                      sa_column_kwargs={"server_default": text(RECEIPT_COPIES_SQL)})
    receipt_note: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})  # 此收据不作报销凭证

    transitions: ClassVar[TransitionTable[EstateStatus]] = ESTATE_TRANSITIONS
    audit_entity: ClassVar[str] = "estate"
    audit_actions: ClassVar[dict[str, str]] = {"close": "close"}

    @property
    def status(self) -> EstateStatus:
        return EstateStatus.open if self.closed_at is None else EstateStatus.closed

    @property
    def audit_estate_id(self) -> uuid.UUID:
        """The estate's own entries are filed under it."""
        return self.id

    def close(self, *, reason: str, at: datetime) -> None:
        """Close for good; closing twice answers estate-closed, as every write into it does."""
        if self.closed_at is not None:
            raise EstateClosed(f"estate {self.code} was closed on {self.closed_at:%Y-%m-%d}")
        ESTATE_TRANSITIONS.next_state(self.status, "close")
        self.closed_at, self.closed_reason = at, reason


class Title(StrEnum):
    """How the scripts address an owner: 「王先生」, 「李女士」."""

    mr = "先生"
    ms = "女士"


class Jurisdiction(EstateScoped, Versioned, table=True):
    """A manager's patch (轄區): the buildings whose vouchers go to them at month end."""

    __table_args__ = (UniqueConstraint("estate_id", "name"),)
    name: str = Field(max_length=100)
    manager_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)


class Building(EstateScoped, Versioned, table=True):
    __table_args__ = (UniqueConstraint("estate_id", "name"),)
    name: str = Field(max_length=40)  # as the office writes it: 8号楼
    number: int | None = Field(default=None)  # 8, for sorting, and the label when the name is missing
    jurisdiction_id: uuid.UUID | None = Field(default=None, foreign_key="jurisdiction.id", index=True)


class Unit(EstateScoped, Versioned, table=True):
    __table_args__ = (UniqueConstraint("building_id", "entrance", "number"),)
    building_id: uuid.UUID = Field(foreign_key="building.id", index=True)
    entrance: str = Field(default="", max_length=20)  # 单元, "" when the building has one
    number: str = Field(max_length=20)  # room: 301
    floor: int | None = Field(default=None)
    area: Decimal = Field(sa_type=Numeric(10, 2))  # m², billed per m²
    is_public: bool = False  # common parts: stairwells, lift rooms, the clubhouse
    is_vacant: bool = False
    note: str = Field(default="", max_length=200)


class Owner(EstateScoped, Versioned, table=True):
    full_name: str = Field(max_length=100, index=True)
    surname: str = Field(max_length=20)
    title: Title | None = Field(default=None, sa_type=String(4))  # enums are stored as text
    note: str = Field(default="", max_length=200)


class UnitOwner(EstateScoped, table=True):
    """Several owners per unit (co-owners), and owners of several units."""

    __tablename__ = "unit_owner"
    __table_args__ = (UniqueConstraint("unit_id", "owner_id"),)
    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    owner_id: uuid.UUID = Field(foreign_key="owner.id", index=True)
    is_primary: bool = True


class OwnerPhone(EstateScoped, table=True):
    __tablename__ = "owner_phone"
    __table_args__ = (UniqueConstraint("owner_id", "phone"),)
    owner_id: uuid.UUID = Field(foreign_key="owner.id", index=True)
    # Digits only, without +86 or a leading 0086: what a caller id shows.
    phone: str = Field(max_length=20, index=True)
    raw: str = Field(default="", max_length=60)  # as typed in the roster
