"""The owner roster (業主名冊): buildings, units, owners and their phones, jurisdictions."""
from __future__ import annotations

import uuid
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Numeric, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped


class Title(StrEnum):
    """How the scripts address an owner: 「王先生」, 「李女士」."""

    mr = "先生"
    ms = "女士"


class Jurisdiction(EstateScoped, table=True):
    """A manager's patch (轄區): the buildings whose vouchers go to them at month end."""

    __table_args__ = (UniqueConstraint("estate_id", "name"),)
    name: str = Field(max_length=100)
    manager_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)


class Building(EstateScoped, table=True):
    __table_args__ = (UniqueConstraint("estate_id", "name"),)
    name: str = Field(max_length=40)  # as the office writes it: 8号楼
    number: int | None = Field(default=None)  # 8, for sorting and "8-2-301"
    jurisdiction_id: uuid.UUID | None = Field(default=None, foreign_key="jurisdiction.id", index=True)


class Unit(EstateScoped, table=True):
    __table_args__ = (UniqueConstraint("building_id", "entrance", "number"),)
    building_id: uuid.UUID = Field(foreign_key="building.id", index=True)
    entrance: str = Field(default="", max_length=20)  # 单元, "" when the building has one
    number: str = Field(max_length=20)  # room: 301
    floor: int | None = Field(default=None)
    area: Decimal = Field(sa_type=Numeric(10, 2))  # m², billed per m²
    is_public: bool = False  # common parts: stairwells, lift rooms, the clubhouse
    is_vacant: bool = False
    note: str = Field(default="", max_length=200)


class Owner(EstateScoped, table=True):
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
