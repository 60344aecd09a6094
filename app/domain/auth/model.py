"""Staff accounts, their estates, bearer tokens and integration API keys."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import ARRAY, DateTime, String, Uuid
from sqlmodel import Field, SQLModel

from app.domain.base import Entity
from app.domain.transitions import TransitionTable
from app.domain.versions import Versioned


class User(Entity, Versioned, table=True):
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True)
    username: str = Field(max_length=60, unique=True)
    full_name: str = Field(max_length=100)
    phone: str | None = Field(default=None, max_length=60)
    roles: list[str] = Field(default_factory=list, sa_type=ARRAY(String(32)), nullable=False)
    password_hash: str = Field(max_length=255)
    is_active: bool = True


class UserEstate(SQLModel, table=True):
    __tablename__ = "user_estate"
    user_id: uuid.UUID = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    estate_id: uuid.UUID = Field(foreign_key="estate.id", primary_key=True, index=True)


class SignInPlace(SQLModel, table=True):
    """An address the user last signed in from successfully: a "known place" (see auth/throttle.py)."""

    __tablename__ = "sign_in_place"
    user_id: uuid.UUID = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    address: str = Field(primary_key=True, max_length=100)
    last_signed_in_at: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


class AuthToken(Entity, table=True):
    __tablename__ = "auth_token"
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    # Only the SHA-256 of the token is stored; the token itself is shown once.
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ApiKeyStatus(StrEnum):
    """Read from `revoked_at`: the key keeps no status column."""

    active = "active"
    revoked = "revoked"


API_KEY_TRANSITIONS: TransitionTable[ApiKeyStatus] = TransitionTable("api_key", {
    (ApiKeyStatus.active, "revoke"): ApiKeyStatus.revoked,
    # Revoking again is harmless: it keeps the first time and leaves no entry.
    (ApiKeyStatus.revoked, "revoke"): ApiKeyStatus.revoked,
})


class ApiKey(Entity, table=True):
    __tablename__ = "api_key"
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    estate_ids: list[uuid.UUID] = Field(default_factory=list, sa_type=ARRAY(Uuid), nullable=False)
    scopes: list[str] = Field(default_factory=list, sa_type=ARRAY(String(32)), nullable=False)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    transitions: ClassVar[TransitionTable[ApiKeyStatus]] = API_KEY_TRANSITIONS
    audit_actions: ClassVar[dict[str, str]] = {"revoke": "revoke"}

    @property
    def status(self) -> ApiKeyStatus:
        return ApiKeyStatus.active if self.revoked_at is None else ApiKeyStatus.revoked

    def revoke(self, *, at: datetime) -> bool:
        """False when it was revoked already."""
        API_KEY_TRANSITIONS.next_state(self.status, "revoke")
        if self.revoked_at is not None:
            return False
        self.revoked_at = at
        return True
