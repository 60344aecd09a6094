"""Movements of stock: received, issued to a work order, returned, adjusted.

Every movement goes through `apply`: the item's row is locked, the new book computed and
checked, the column updated and the ledger line written in one transaction. Issuing more
than the book holds is InsufficientStock; only an explicit adjustment (with a reason, by
those who configure stock) corrects a book that is wrong, and even that stops at zero.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.errors import Conflict, Invalid
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.orders import reading as repair_orders
from app.domain.stock.items import load_item
from app.domain.stock.model import MovementKind, StockItem, StockMovement
from app.domain.stock.schemas import AdjustIn, IssueIn, MovementRead, ReceiveIn, ReturnIn


class InsufficientStock(Conflict):
    title = "The book holds less than the quantity asked for; receive it or adjust the book first"
    title_zh = "账面库存少于所需数量；请先入库或调整账面"


class AdjustmentBelowZero(Conflict):
    title = "The adjustment would take the book below zero"
    title_zh = "此次调整会使账面库存低于零"


class StockItemInactive(Conflict):
    title = "The stock item is no longer in use; reactivate it first"
    title_zh = "该库存物品已停用；请先重新启用"


class WorkOrderNotInEstate(Invalid):
    title = "The work order belongs to another estate than the stock item"
    title_zh = "该工单与库存物品不属于同一小区"


class WorkOrderCancelled(Conflict):
    title = "Nothing is issued to a cancelled work order"
    title_zh = "已取消的工单不能领用物料"


class ReturnExceedsIssued(Conflict):
    title = "More would come back from the work order than was issued to it"
    title_zh = "退库数量超过该工单的领用数量"


def _actor_id(actor: Actor) -> uuid.UUID | None:
    return None if actor.is_system or actor.is_api_key else actor.id


async def apply(
    session: AsyncSession, *, actor: Actor, item: StockItem, kind: MovementKind, quantity: Decimal, at: datetime | None = None,
    work_order_id: uuid.UUID | None = None, voucher_id: uuid.UUID | None = None, stocktake_id: uuid.UUID | None = None,
    reference: str = "", note: str = "",
) -> StockMovement:
    """Book one signed movement on an item the caller has locked (load_item(lock=True))."""
    after = item.quantity + quantity
    if after < 0:
        if kind is MovementKind.adjusted:
            raise AdjustmentBelowZero(stock_item_id=str(item.id), name=item.name, book=str(item.quantity),
                                      quantity=str(quantity))
        raise InsufficientStock(f"{item.name}: the book holds {item.quantity} {item.unit}, {-quantity} asked for",
                                stock_item_id=str(item.id), name=item.name, book=str(item.quantity), requested=str(-quantity))
    before = item.quantity
    item.quantity = after
    session.add(item)
    row = StockMovement(estate_id=item.estate_id, stock_item_id=item.id, kind=kind, quantity=quantity, balance_after=after,
                        unit_cost=item.unit_cost, at=at or utcnow(), work_order_id=work_order_id, voucher_id=voucher_id,
                        stocktake_id=stocktake_id, reference=reference, note=note, actor_id=_actor_id(actor))
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action=f"stock.{kind.value}", entity="stock_movement", entity_id=row.id,
                       estate_id=item.estate_id, before={"quantity": before}, after=snapshot(row))
    return row


async def _locked_active(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID) -> StockItem:
    item = await load_item(session, actor=actor, item_id=item_id, lock=True)
    if not item.active:
        raise StockItemInactive(stock_item_id=str(item.id))
    return item


async def _order_for(session: AsyncSession, *, actor: Actor, item: StockItem, order_id: uuid.UUID) -> WorkOrder:
    order = await repair_orders.load_order(session, actor=actor, order_id=order_id)
    if order.estate_id != item.estate_id:
        raise WorkOrderNotInEstate(field="work_order_id")
    if WorkOrderStatus(order.status) is WorkOrderStatus.cancelled:
        raise WorkOrderCancelled(work_order_id=str(order.id))
    return order


async def receive(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: ReceiveIn) -> MovementRead:
    item = await _locked_active(session, actor=actor, item_id=item_id)
    row = await apply(session, actor=actor, item=item, kind=MovementKind.received, quantity=data.quantity,
                      reference=data.reference, note=data.note)
    return MovementRead.model_validate(row)


async def issue(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: IssueIn) -> MovementRead:
    item = await _locked_active(session, actor=actor, item_id=item_id)
    order = await _order_for(session, actor=actor, item=item, order_id=data.work_order_id)
    row = await apply(session, actor=actor, item=item, kind=MovementKind.issued, quantity=-data.quantity,
                      work_order_id=order.id, note=data.note)
    return MovementRead.model_validate(row)


async def issued_to(session: AsyncSession, *, item_id: uuid.UUID, order_id: uuid.UUID) -> Decimal:
    """Net quantity of the item the order holds: issued less returned."""
    stmt = select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(
        StockMovement.stock_item_id == item_id, StockMovement.work_order_id == order_id,
        StockMovement.kind.in_([MovementKind.issued.value, MovementKind.returned.value]))
    return -Decimal((await session.execute(stmt)).scalar_one())


async def return_(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: ReturnIn) -> MovementRead:
    item = await _locked_active(session, actor=actor, item_id=item_id)
    order_id = None
    if data.work_order_id is not None:
        order = await _order_for(session, actor=actor, item=item, order_id=data.work_order_id)
        held = await issued_to(session, item_id=item.id, order_id=order.id)
        if data.quantity > held:
            raise ReturnExceedsIssued(work_order_id=str(order.id), issued=str(held), returned=str(data.quantity))
        order_id = order.id
    row = await apply(session, actor=actor, item=item, kind=MovementKind.returned, quantity=data.quantity,
                      work_order_id=order_id, note=data.note)
    return MovementRead.model_validate(row)


async def adjust(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: AdjustIn) -> MovementRead:
    """An explicit correction of the book, with its reason; allowed on an inactive item (to clear it)."""
    item = await load_item(session, actor=actor, item_id=item_id, lock=True)
    row = await apply(session, actor=actor, item=item, kind=MovementKind.adjusted, quantity=data.quantity, note=data.reason)
    return MovementRead.model_validate(row)


# --- materials on a completion voucher -----------------------------------------------------

async def issue_voucher_materials(session: AsyncSession, *, actor: Actor, voucher: Any, lines: Sequence[Any]) -> int:
    """Issue a posted voucher's material lines from stock, to the voucher's work order.

    A line is matched to the estate's active stock item of exactly its name (and its unit,
    when the line gives one); a line with no such item is only recorded on the voucher.
    A technician's completed job is never refused over the desk's book: an item the book
    does not hold enough of is not issued, and a `stock.voucher_shortfall` audit entry tells
    the desk to receive or adjust it. Returns the number of lines issued.
    """
    names = {line.item for line in lines}
    if not names:
        return 0
    # Locked in id order, so two vouchers using the same items cannot deadlock each other.
    stmt = (select(StockItem).where(StockItem.estate_id == voucher.estate_id, StockItem.name.in_(names),
                                    StockItem.active.is_(True))
            .order_by(StockItem.id).with_for_update().execution_options(populate_existing=True))
    by_name = {item.name: item for item in (await session.execute(stmt)).scalars()}
    wanted: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for line in lines:
        item = by_name.get(line.item)
        if item is not None and not (line.unit and line.unit != item.unit):
            wanted[item.id].append(line)
    items = {item.id: item for item in by_name.values()}
    issued = 0
    for item_id in sorted(wanted):
        item, matched = items[item_id], wanted[item_id]
        quantity = sum((Decimal(line.quantity) for line in matched), Decimal(0))
        if quantity > item.quantity:
            await audit.record(session, actor=actor, action="stock.voucher_shortfall", entity="stock_item", entity_id=item.id,
                               estate_id=item.estate_id, after={"voucher_id": str(voucher.id), "wanted": str(quantity),
                                                                "book": str(item.quantity), "alert": {"to": "receptionist"}})
            continue
        for line in matched:
            line.stock_item_id = item.id
            session.add(line)
        await apply(session, actor=actor, item=item, kind=MovementKind.issued, quantity=-quantity,
                    at=voucher.posted_at, work_order_id=voucher.work_order_id, voucher_id=voucher.id,
                    reference=f"voucher {voucher.id}")
        issued += len(matched)
    return issued


# --- the ledger ----------------------------------------------------------------------------

class MovementSort(StrEnum):
    """The keys stock movements sort by."""

    at = "at"
    kind = "kind"
    quantity = "quantity"


_SORTABLE = {
    MovementSort.at: StockMovement.at, MovementSort.kind: StockMovement.kind,
    MovementSort.quantity: StockMovement.quantity,
}


async def list_item_movements(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID,
                              page: PageRequest) -> tuple[list[MovementRead], int]:
    item = await load_item(session, actor=actor, item_id=item_id)
    stmt = select(StockMovement).where(StockMovement.stock_item_id == item.id)
    rows, total = await paginate(session, stmt, page, sortable=_SORTABLE,
                                 default=[StockMovement.at.desc(), StockMovement.created_at.desc(), StockMovement.id])
    return [MovementRead.model_validate(r) for r in rows], total


async def list_estate_movements(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, kind: MovementKind | None = None,
    work_order_id: uuid.UUID | None = None, stocktake_id: uuid.UUID | None = None, stock_item_id: uuid.UUID | None = None,
    at_from: datetime | None = None, at_to: datetime | None = None,
) -> tuple[list[MovementRead], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    stmt: Select[Any] = select(StockMovement).where(StockMovement.estate_id == estate_id)
    for column, value in ((StockMovement.kind, kind.value if kind else None), (StockMovement.work_order_id, work_order_id),
                          (StockMovement.stocktake_id, stocktake_id), (StockMovement.stock_item_id, stock_item_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if at_from is not None:
        stmt = stmt.where(StockMovement.at >= at_from)
    if at_to is not None:
        stmt = stmt.where(StockMovement.at < at_to)
    rows, total = await paginate(session, stmt, page, sortable=_SORTABLE,
                                 default=[StockMovement.at.desc(), StockMovement.created_at.desc(), StockMovement.id])
    return [MovementRead.model_validate(r) for r in rows], total
