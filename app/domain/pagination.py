"""Pages of a list: limit, offset, a sort key from the list's enum, and the total."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.errors import Invalid

T = TypeVar("T")
K = TypeVar("K", bound=StrEnum)

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
    title_zh = "未知的排序字段"


def sort_values(keys: type[StrEnum]) -> list[str]:
    """What `sort=` takes for a list: each key, and the key with a leading - for descending."""
    return [v for key in keys for v in (key.value, f"-{key.value}")]


def _key(sort: str) -> str:
    return sort[1:] if sort.startswith("-") else sort


def check_sort(keys: type[StrEnum], sort: str | None) -> None:
    """Refuse a sort key the list does not have (422 naming the field)."""
    if sort is not None and _key(sort) not in {k.value for k in keys}:
        raise UnknownSortKey(f"sort must be one of: {', '.join(sorted(k.value for k in keys))}", field="sort")


def ordering(page: PageRequest, *, sortable: Mapping[K, Any], default: Sequence[Any]) -> list[Any]:
    """The ORDER BY of a page: the chosen key, then `default` to break ties.

    A key maps to a column or to a list of columns. Rows without a value come last in either
    direction (PostgreSQL would put them first when descending): "latest completed first"
    means the completed ones, and a blank is never the largest value of a list.
    """
    keys = type(next(iter(sortable)))
    if set(sortable) != set(keys):
        # The enum is what OpenAPI promises; a key it lists must sort.
        raise TypeError(f"sortable must map every {keys.__name__} and nothing else")
    check_sort(keys, page.sort)
    if not page.sort:
        return list(default)
    chosen = sortable[keys(_key(page.sort))]
    columns = chosen if isinstance(chosen, (list, tuple)) else [chosen]
    descending = page.sort.startswith("-")
    return [*(c.desc().nulls_last() if descending else c.asc().nulls_last() for c in columns), *default]


async def paginate(
    session: AsyncSession,
    stmt: Select[*tuple[Any, ...]],
    page: PageRequest,
    *,
    sortable: Mapping[K, Any],
    default: Sequence[Any],
    scalars: bool = True,
) -> tuple[list[Any], int]:
    """Run stmt for one page; sort is 'key' or '-key' of the list's enum (the keys of sortable).

    scalars: the first entity of each row; False for statements that select several (whole rows).
    """
    order = ordering(page, sortable=sortable, default=default)
    total = (await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one()
    result = await session.execute(stmt.order_by(*order).limit(page.limit).offset(page.offset))
    rows = result.scalars().all() if scalars else result.all()
    return list(rows), int(total)
