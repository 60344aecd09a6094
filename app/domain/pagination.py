"""Pages of a list: limit, offset, a sort key from a whitelist, and the total."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import Invalid

T = TypeVar("T")

# Part of the API's contract (every list's OpenAPI says so), hence a constant and not a setting.
MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, kw_only=True)
class PageRequest:
    limit: int = 50
    offset: int = 0
    sort: str | None = None


class UnknownSortKey(Invalid):
    title = "Unknown sort key"


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    page: PageRequest,
    *,
    sortable: Mapping[str, Any],
    default: Sequence[Any],
) -> tuple[list[Any], int]:
    """Run stmt for one page; sort is 'field' or '-field' from sortable."""
    order = list(default)
    if page.sort:
        key = page.sort.lstrip("-")
        if key not in sortable:
            raise UnknownSortKey(f"sort must be one of: {', '.join(sorted(sortable))}", field="sort")
        column = sortable[key]
        order = [column.desc() if page.sort.startswith("-") else column.asc(), *default]
    total = (await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(*order).limit(page.limit).offset(page.offset))).scalars().all()
    return list(rows), int(total)
