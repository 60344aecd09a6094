"""Shared column mixins and helpers for the tables of every area."""
from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from app.domain.errors import DomainError


def utcnow() -> datetime:
    return datetime.now(UTC)


class Entity(SQLModel):
    """Every table: a UUID key and when it was created (UTC, timezone-aware)."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


class EstateScoped(Entity):
    """Operational tables carry their estate, so the schema can later be sharded by estate."""

    estate_id: uuid.UUID = Field(foreign_key="estate.id", index=True, nullable=False)


def by_id_in_estate(model: type[EstateScoped], ref: Any, estate: uuid.UUID | Collection[uuid.UUID]) -> Any:
    """The join condition `model.id == ref`, saying also which estate(s) the row is in (always true).

    Joined by id alone, the planner hashes the whole company's table whenever it expects more than
    a few rows on the other side (every unit of the company, 200,000 at full scale, to label one
    estate's page); naming the estate bounds the join by the estate whatever plan it picks.
    bench/plans.py finds the joins that still read a company-wide table.
    """
    in_estate = model.estate_id.in_(estate) if isinstance(estate, Collection) else model.estate_id == estate
    return (model.id == ref) & in_estate


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched.

    Such a statement's result is a CursorResult at run time, but AsyncSession.execute is typed
    to return the base Result, which has no rowcount: the cast says so once, here.
    """
    return cast(CursorResult[Any], result).rowcount


def jsonable(value: Any) -> Any:
    """What the audit trail stores: plain JSON with Decimal and UUID as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def snapshot(obj: SQLModel, *, exclude: Collection[str] = frozenset()) -> dict[str, Any]:
    """The column values of a row, for the before/after of an audit entry."""
    secret = {"password_hash", "token_hash", "key_hash"}
    # Read the mapped columns, not model_dump: a column may hold a value its annotation
    # would warn about (an enum stored as text), and the audit wants what is stored.
    table = getattr(obj, "__table__", None)
    keys = [c.key for c in table.columns] if table is not None else list(type(obj).model_fields)
    return {k: jsonable(getattr(obj, k, None)) for k in keys if k not in exclude and k not in secret}


async def flush_unique(session: AsyncSession, error: DomainError) -> None:
    """Flush inside a savepoint; a unique violation becomes the named error."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise error from None
