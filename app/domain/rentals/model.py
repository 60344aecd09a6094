"""Rental entrustments (委托租賃, §7.3.14): an owner's unit offered for rent through the agency desk.

    open --reserve--> reserved           (a tenant is holding it)
    reserved --release--> open           (the reservation fell through)
    reserved --let--> let                (the lease is signed; final)
    open|reserved --withdraw--> withdrawn  (the owner takes it back; final)
    open|reserved --edit--> same         (details change while it is on offer)

At most one entrustment per unit is on offer (open or reserved) at a time.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Numeric, String, text
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Invalid
from app.domain.transitions import TransitionTable
from app.domain.versions import Versioned


class RentalStatus(StrEnum):
    open = "open"
    reserved = "reserved"
    let = "let"
    withdrawn = "withdrawn"


class Furnishing(StrEnum):
    unfurnished = "unfurnished"  # 清水/毛坯
    basic = "basic"  # 簡裝
    full = "full"  # 精裝, furnished and with appliances


class ContactPreference(StrEnum):
    phone = "phone"
    sms = "sms"
    wechat = "wechat"
    via_desk = "via_desk"  # the owner wants the desk to pass messages on


S = RentalStatus
RENTAL_TRANSITIONS: TransitionTable[RentalStatus] = TransitionTable("rental_entrustment", {
    (S.open, "edit"): S.open,
    (S.reserved, "edit"): S.reserved,
    (S.open, "reserve"): S.reserved,
    (S.reserved, "release"): S.open,
    (S.reserved, "let"): S.let,
    (S.open, "withdraw"): S.withdrawn,
    (S.reserved, "withdraw"): S.withdrawn,
})
ON_OFFER = (S.open.value, S.reserved.value)


class ReasonRequired(Invalid):
    title = "Withdrawing or releasing an entrustment needs a reason"
    title_zh = "撤回或释放租赁委托须注明原因"


class RentalEntrustment(EstateScoped, Versioned, table=True):
    __tablename__ = "rental_entrustment"
    __table_args__ = (
        Index("uq_rental_unit_on_offer", "unit_id", unique=True, postgresql_where=text("status IN ('open', 'reserved')")),
        Index("ix_rental_estate_status_rent", "estate_id", "status", "asking_rent"),
        CheckConstraint("asking_rent > 0", name="rent_positive"),
        CheckConstraint("bedrooms BETWEEN 0 AND 20 AND living_rooms BETWEEN 0 AND 10 AND bathrooms BETWEEN 0 AND 10",
                        name="layout_in_range"),
    )

    unit_id: uuid.UUID = Field(foreign_key="unit.id", index=True)
    owner_id: uuid.UUID = Field(foreign_key="owner.id", index=True)
    status: RentalStatus = Field(default=RentalStatus.open, sa_type=String(20))
    asking_rent: Decimal = Field(sa_type=Numeric(12, 2))  # per month, yuan
    bedrooms: int = 0  # 室
    living_rooms: int = 0  # 廳
    bathrooms: int = 0  # 衛
    furnishing: Furnishing = Field(default=Furnishing.basic, sa_type=String(20))
    available_from: date = Field(sa_type=Date)
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=20)  # digits; empty: ring the owner's roster number
    contact_preference: ContactPreference = Field(default=ContactPreference.phone, sa_type=String(20))
    contact_note: str = Field(default="", max_length=200)  # "weekday evenings only"
    description: str = Field(default="", max_length=2000)
    taken_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    reserved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    reserved_for: str = Field(default="", max_length=200)  # the prospective tenant, as the agency notes them
    let_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    agreed_rent: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # let or withdrawn
    reason: str = Field(default="", max_length=500)  # of the latest release or withdrawal

    # --- the verbs -----------------------------------------------------------------------

    transitions: ClassVar[TransitionTable[RentalStatus]] = RENTAL_TRANSITIONS

    def _move(self, action: str) -> None:
        self.status = RENTAL_TRANSITIONS.next_state(RentalStatus(self.status), action)

    def allowed_actions(self) -> list[str]:
        return RENTAL_TRANSITIONS.allowed_actions(RentalStatus(self.status))

    def edit(self, changes: dict[str, object], *, at: datetime) -> None:
        self._move("edit")
        for key, value in changes.items():
            setattr(self, key, value)
        self.updated_at = at

    def reserve(self, *, reserved_for: str, at: datetime) -> None:
        self._move("reserve")
        self.reserved_at, self.reserved_for, self.updated_at = at, reserved_for, at

    def release(self, *, reason: str, at: datetime) -> None:
        self._require_reason(reason)
        self._move("release")
        self.reserved_at, self.reserved_for, self.reason, self.updated_at = None, "", reason, at

    def let(self, *, agreed_rent: Decimal | None, at: datetime) -> None:
        self._move("let")
        self.let_at = self.closed_at = self.updated_at = at
        self.agreed_rent = agreed_rent if agreed_rent is not None else self.asking_rent

    def withdraw(self, *, reason: str, at: datetime) -> None:
        self._require_reason(reason)
        self._move("withdraw")
        self.closed_at, self.reason, self.updated_at = at, reason, at

    @staticmethod
    def _require_reason(reason: str) -> None:
        if not reason.strip():
            raise ReasonRequired(field="reason")


class RentalPhoto(EstateScoped, table=True):
    """A photo of the entrusted unit; the bytes live under the upload directory."""

    __tablename__ = "rental_photo"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    entrustment_id: uuid.UUID = Field(foreign_key="rental_entrustment.id", index=True)
    content_type: str = Field(max_length=50)  # sniffed from the bytes
    size_bytes: int
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=300)  # relative to the upload directory
    original_filename: str = Field(default="", max_length=200)
