from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from app.domain.auth import secrets
from app.domain.auth.roles import Perm, Role
from app.domain.types import InputModel, Name, PhoneText
from app.domain.versions import RowVersion

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{3,60}$")]


def _strong(password: str) -> str:
    # The service checks again against the account's own name, which this body may not carry.
    reason = secrets.password_weakness(password)
    if reason is not None:
        raise ValueError(reason)
    return password


Password = Annotated[
    str,
    StringConstraints(min_length=secrets.MIN_PASSWORD_LENGTH, max_length=secrets.MAX_PASSWORD_LENGTH, pattern=r"^[^\x00]*$"),
    AfterValidator(_strong),
]
# What is checked against a stored hash: any password once accepted, however weak by today's rule.
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=secrets.MAX_PASSWORD_LENGTH, pattern=r"^[^\x00]*$")]


class LoginRequest(InputModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[^\x00]*$")]
    password: GivenPassword


class UserBase(BaseModel):
    full_name: Name
    phone: PhoneText | None = None


class UserCreate(UserBase, InputModel):
    username: Username
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=10)
    estate_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)

    @field_validator("password")
    @classmethod
    def _not_the_name(cls, password: str, info: ValidationInfo) -> str:
        # full_name and username are declared before password, so they are validated by now.
        reason = secrets.password_weakness(password, user_inputs=[str(info.data.get(k) or "") for k in ("username", "full_name")])
        if reason is not None:
            raise ValueError(reason)
        return password


class UserUpdate(InputModel):
    full_name: Name | None = None
    phone: PhoneText | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=10)
    estate_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=500)
    is_active: bool | None = None


class PasswordReset(InputModel):
    new_password: Password


class PasswordChange(InputModel):
    current_password: GivenPassword
    new_password: Password


class UserRead(UserBase):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    username: str
    roles: list[Role]
    estate_ids: list[uuid.UUID]
    is_active: bool
    created_at: datetime


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserRead


class ApiKeyScope(StrEnum):
    """What a key may be granted (roles.API_KEY_PERMS): read-only access, and announcing the desk's
    incoming calls for a telephony integration -- which writes an event, nothing else."""

    reports_read = Perm.reports_read.value
    registry_read = Perm.registry_read.value
    fee_reports_read = Perm.fee_reports_read.value  # the Saturday register and month-end report, for finance's systems
    calls_answer = Perm.calls_answer.value  # the telephony integration's screen pop


class ApiKeyCreate(InputModel):
    name: Name
    estate_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    scopes: list[ApiKeyScope] = Field(default=[ApiKeyScope.reports_read], min_length=1, max_length=5)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    prefix: str
    estate_ids: list[uuid.UUID]
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    # Shown once; only its hash is kept.
    key: str
