"""Starting a real office from nothing: the company, its first estate, its first administrator.

Everything after that (more estates, buildings, staff, fee items) is done by the administrator
through the API; `propdesk init` only makes the account that can sign in and do it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth import users
from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.auth.schemas import UserCreate
from app.domain.errors import Conflict
from app.domain.registry import company as company_service
from app.domain.registry import service as registry_service
from app.domain.registry.company import CompanyCreate
from app.domain.registry.model import Company, Estate
from app.domain.registry.schemas import EstateCreate
from app.domain.types import Name

# Any constant will do: two `propdesk init` at once queue here, and the second finds a company.
_INIT_LOCK = 0x70726F7064657369


class OfficeAlreadySetUp(Conflict):
    title = "The database already has a company; init runs once, on an empty database"
    title_zh = "数据库中已有公司；初始化只能在空数据库上执行一次"


class FirstAdmin(BaseModel):
    username: str
    full_name: Name
    password: str


@dataclass(frozen=True)
class Office:
    company: Company
    estate: Estate
    admin: User


async def has_company(session: AsyncSession) -> bool:
    return (await session.execute(select(func.count()).select_from(Company))).scalar_one() > 0


async def set_up_office(session: AsyncSession, *, actor: Actor, company: CompanyCreate, estate: EstateCreate,
                        admin: FirstAdmin) -> Office:
    """Create the company, its first estate and its first admin, audited; flushes, the caller commits."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INIT_LOCK})
    if await has_company(session):
        raise OfficeAlreadySetUp()
    # Validated before anything is written, so a weak password leaves no half-made company.
    account = UserCreate.model_validate({**admin.model_dump(), "roles": [Role.admin], "estate_ids": [_PLACEHOLDER]})
    made = await company_service.create_company(session, actor=actor, data=company)
    actor = replace(actor, company_id=made.id)
    first = await registry_service.create_estate(session, actor=actor, data=estate)
    user = await users.create_user(session, actor=actor, data=account.model_copy(update={"estate_ids": [first.id]}))
    return Office(company=made, estate=first, admin=user)


_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
