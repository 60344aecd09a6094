"""Company and estates: the top of the registry (業主名冊). Company-wide tables stay small."""
from __future__ import annotations

import uuid
from datetime import datetime, time

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from app.domain.base import Entity
from app.domain.types import Code, Name


class Company(Entity, table=True):
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


class Estate(EstateBase, Entity, table=True):
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True)
    # Office hours (§5.1): 8:00-12:00 and 14:00-18:00 unless the estate says otherwise.
    morning_open: time = Field(default=time(8, 0))
    morning_close: time = Field(default=time(12, 0))
    afternoon_open: time = Field(default=time(14, 0))
    afternoon_close: time = Field(default=time(18, 0))
    # A closed estate keeps its history and reports but takes no new records (see closing.py).
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    closed_reason: str | None = Field(default=None, max_length=500)
