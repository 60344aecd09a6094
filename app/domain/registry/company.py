"""The company (物業公司): the details its receipts and notices print, and who may change them."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, snapshot
from app.domain.errors import AlreadyExists, NotFound
from app.domain.registry.model import Company
from app.domain.types import InputModel, Name, Patch, PhoneText, text
from app.domain.versions import RowVersion

# GB 32100-2015: the code's alphabet (no I, O, S, V, Z) and the weights 3^i mod 31 of its
# first 17 characters; the 18th makes the weighted sum a multiple of 31.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [pow(3, i, 31) for i in range(17)]


class CompanyNotFound(NotFound):
    title = "Company not found"
    title_zh = "未找到该公司"


class CreditCodeTaken(AlreadyExists):
    title = "Another company has this unified social credit code"
    title_zh = "已有其他公司使用这个统一社会信用代码"


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def check_credit_code(value: str) -> str:
    """The code, upper-cased, if it is 18 characters of the alphabet with the right check character."""
    code = value.strip().upper()
    if len(code) != 18:
        raise ValueError("a unified social credit code has 18 characters")
    wrong = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if wrong:
        raise ValueError(f"a unified social credit code has no {''.join(wrong)!r} (digits and A-Y without I, O, S, V, Z)")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValueError(f"the check character of {code[:17]} is {expected}, not {code[17]}: a digit is mistyped")
    return code


CreditCode = Annotated[str, AfterValidator(check_credit_code),
                       Field(min_length=18, max_length=40, examples=["91350100M000100Y43"],
                             description="统一社会信用代码, 18 characters; the last is checked (GB 32100-2015)")]
Address = Annotated[str, text(200)]
LegalName = Annotated[str, text(200)]


class CompanyCreate(InputModel):
    legal_name: LegalName = Field(description="As registered; printed on receipts and notices")
    name: Name = Field(description="The short name the office goes by")
    address: Address
    phone: PhoneText
    credit_code: CreditCode


class CompanyUpdate(Patch):
    legal_name: LegalName | None = None
    name: Name | None = None
    address: Address | None = None
    phone: PhoneText | None = None
    credit_code: CreditCode | None = None


class CompanyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    name: str
    legal_name: str | None
    address: str | None
    phone: str | None
    credit_code: str | None
    created_at: datetime


async def _flush_unique(session: AsyncSession) -> None:
    await flush_unique(session, CreditCodeTaken(field="credit_code"))


async def create_company(session: AsyncSession, *, actor: Actor, data: CompanyCreate) -> Company:
    company = Company(**data.model_dump())
    session.add(company)
    await _flush_unique(session)
    await audit.record(session, actor=actor, action="create", entity="company", entity_id=company.id,
                       estate_id=None, after=snapshot(company))
    return company


async def get_company(session: AsyncSession, *, actor: Actor) -> Company:
    company = await session.get(Company, actor.company_id) if actor.company_id else None
    if company is None:
        raise CompanyNotFound()
    return company


async def update_company(session: AsyncSession, *, actor: Actor, data: CompanyUpdate, expected_version: int | None = None) -> Company:
    company = await get_company(session, actor=actor)
    await versions.check_locked(session, company, expected_version=expected_version)
    before = snapshot(company)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(company, key, value)
    await _flush_unique(session)
    await audit.record(session, actor=actor, action="update", entity="company", entity_id=company.id,
                       estate_id=None, before=before, after=snapshot(company))
    return company
