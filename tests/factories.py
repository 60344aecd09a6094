"""Async factories with keyword defaults. Each commits, so the app sees what it made."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth import secrets
from app.domain.auth.model import AuthToken, User, UserEstate
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.registry.model import Company, Estate

_seq = itertools.count(1)
# Hashing with argon2 costs ~50 ms; tests share one hash of this password.
PASSWORD = "correct-horse-battery"
TEST_SECRET = "propdesk-test-signing-secret-4f1c9a"
_PASSWORD_HASH = secrets.hash_password(PASSWORD)


@dataclass
class Staff:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def id(self) -> uuid.UUID:
        return self.user.id


async def make_company(session: AsyncSession, *, name: str = "祥瑞物業") -> Company:
    company = Company(name=name)
    session.add(company)
    await session.commit()
    return company


async def make_estate(
    session: AsyncSession, *, company: Company | None = None, name: str | None = None,
    office_name: str = "淇水春天管理處", code: str | None = None, time_zone: str = "Asia/Shanghai",
) -> Estate:
    company = company or await make_company(session)
    n = next(_seq)
    estate = Estate(company_id=company.id, name=name or f"淇水春天{n}", office_name=office_name,
                    code=code or f"E{n}", time_zone=time_zone)
    session.add(estate)
    await session.commit()
    return estate


async def make_staff(
    session: AsyncSession, *, estates: list[Estate], roles: list[Role] | None = None,
    username: str | None = None, full_name: str = "李娜", is_active: bool = True,
) -> Staff:
    """A user with a ready bearer token (no login round trip)."""
    user = User(
        company_id=estates[0].company_id,
        username=username or f"user{next(_seq)}",
        full_name=full_name,
        roles=[r.value for r in (roles or [Role.receptionist])],
        password_hash=_PASSWORD_HASH,
        is_active=is_active,
    )
    session.add(user)
    await session.flush()
    session.add_all([UserEstate(user_id=user.id, estate_id=e.id) for e in estates])
    token = secrets.new_token()
    session.add(AuthToken(user_id=user.id, token_hash=secrets.token_hash(token), expires_at=utcnow() + timedelta(hours=1)))
    await session.commit()
    return Staff(user=user, token=token)
