"""Stock items of an estate: what the store holds, in which unit, at what cost (§5.7)."""
from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.errors import AlreadyExists, NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.stock.model import StockCategory, StockItem, money
from app.domain.stock.schemas import StockItemCreate, StockItemRead, StockItemUpdate
from app.domain.visibility import Visible, load_visible


class StockItemNotFound(NotFound):
    title = "Stock item not found"
    title_zh = "未找到该库存物品"


STOCK_ITEM = Visible(model=StockItem, missing=StockItemNotFound, id_field="stock_item_id")


class StockItemTaken(AlreadyExists):
    title = "The estate already has a stock item with this code or name"
    title_zh = "本小区已有相同编码或名称的库存物品"


def read(item: StockItem) -> StockItemRead:
    # The mapped columns, not model_dump: a reloaded category is the stored text, not the enum.
    columns = {c.key: getattr(item, c.key) for c in StockItem.__table__.columns}
    return StockItemRead.model_validate({**columns, "value": money(item.quantity, item.unit_cost)})


async def load_item(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, lock: bool = False) -> StockItem:
    """The item when the actor sees its estate; another estate's item is not acknowledged (404)."""
    return await load_visible(session, STOCK_ITEM, item_id, actor=actor, lock=lock)


async def _flush_unique(session: AsyncSession, new: StockItem | None = None) -> None:
    try:
        # A new row is added inside the savepoint, so a refused one leaves the session with it.
        async with session.begin_nested():
            if new is not None:
                session.add(new)
            await session.flush()
    except IntegrityError:
        raise StockItemTaken(field="code") from None


async def create_item(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: StockItemCreate) -> StockItemRead:
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    item = StockItem(estate_id=estate.id, **data.model_dump())
    await _flush_unique(session, item)
    await audit.record(session, actor=actor, action="create", entity="stock_item", entity_id=item.id,
                       estate_id=item.estate_id, after=snapshot(item))
    return read(item)


async def update_item(
    session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: StockItemUpdate, expected_version: int | None = None,
) -> StockItemRead:
    """Name, unit, cost, category, active. The book quantity moves only through movements."""
    item = await load_item(session, actor=actor, item_id=item_id, lock=True)
    versions.check(item, expected_version)
    before = snapshot(item)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for key, value in changes.items():
        setattr(item, key, value)
    if changes:
        item.updated_at = utcnow()
        session.add(item)
        await _flush_unique(session)
        await audit.record(session, actor=actor, action="update", entity="stock_item", entity_id=item.id,
                           estate_id=item.estate_id, before=before, after=snapshot(item))
    return read(item)


async def get_item(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID) -> StockItemRead:
    return read(await load_item(session, actor=actor, item_id=item_id))


class StockItemSort(StrEnum):
    """The keys stock items sort by."""

    code = "code"
    name = "name"
    quantity = "quantity"
    unit_cost = "unit_cost"
    created_at = "created_at"


async def list_items(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, category: StockCategory | None = None,
    active: bool | None = None, q: str | None = None, in_stock: bool | None = None,
) -> tuple[list[StockItemRead], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    stmt: Select[Any] = select(StockItem).where(StockItem.estate_id == estate_id)
    if category is not None:
        stmt = stmt.where(StockItem.category == category.value)
    if active is not None:
        stmt = stmt.where(StockItem.active.is_(active))
    if in_stock is not None:
        stmt = stmt.where(StockItem.quantity > 0 if in_stock else StockItem.quantity == 0)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(StockItem.name.ilike(pattern, escape="\\") | StockItem.code.ilike(pattern, escape="\\"))
    sortable = {
        StockItemSort.code: StockItem.code, StockItemSort.name: StockItem.name,
        StockItemSort.quantity: StockItem.quantity, StockItemSort.unit_cost: StockItem.unit_cost,
        StockItemSort.created_at: StockItem.created_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[StockItem.code, StockItem.id])
    return [read(r) for r in rows], total
