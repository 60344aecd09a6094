"""The month-end stocktake (盤存, §5.7): open a count, enter what is on the shelves, post the differences.

Opening snapshots the book of every active item. A line's count is compared with the book
at the moment the count is entered (the snapshot plus what moved since), so the store need
not close while it is counted. Posting books each difference as an adjustment carrying the
count's reference, on top of anything that moved after the count; a posted count never
changes again. One count at a time per estate (a partial unique index says so).
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, any_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor, system_actor
from app.domain.auth.roles import Role
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.registry.model import Estate
from app.domain.stock import movements
from app.domain.stock.model import (
    OPEN_STATES,
    STOCKTAKE_TRANSITIONS,
    MovementKind,
    StockItem,
    Stocktake,
    StocktakeLine,
    StocktakeStatus,
    money,
)
from app.domain.stock.schemas import (
    CancelIn,
    CountsIn,
    StocktakeCreate,
    StocktakeDetail,
    StocktakeLineRead,
    StocktakeRead,
)
from app.domain.visibility import Visible, load_visible

OPEN_VALUES = [s.value for s in OPEN_STATES]


class StocktakeNotFound(NotFound):
    title = "Stocktake not found"
    title_zh = "未找到该盘点"


STOCKTAKE = Visible(model=Stocktake, missing=StocktakeNotFound, id_field="stocktake_id")


class StocktakeAlreadyOpen(Conflict):
    title = "The estate already has a stocktake in progress; finish or cancel it first"
    title_zh = "本小区已有进行中的盘点；请先完成或取消"


class NothingToCount(Conflict):
    title = "The estate has no active stock items to count"
    title_zh = "本小区没有在用的库存物品可盘点"


class ItemNotInStocktake(Invalid):
    title = "The stock item is not in this stocktake (it was not active when the count was opened)"
    title_zh = "该库存物品不在本次盘点中（开始盘点时它未启用）"


class DuplicateCountLine(Invalid):
    title = "A stock item appears twice in the counts"
    title_zh = "同一库存物品在盘点数中出现了两次"


class StocktakeIncomplete(Conflict):
    title = "Every item of the stocktake must be counted before it is posted"
    title_zh = "盘点中每个物品都清点后才能过账"


def month_of(estate: Estate, at: datetime) -> str:
    return estate_time.month_key(estate_time.today(estate, now=at))


def month_end(estate: Estate, month: str) -> datetime:
    """The first instant of the next month, estate-local: when the count is due."""
    return estate_time.month_bounds(month, estate_time.estate_zone(estate))[1]


# --- reading -------------------------------------------------------------------------------

async def lines_of(session: AsyncSession, stocktake: Stocktake) -> list[tuple[StocktakeLine, Decimal]]:
    """The lines with the cost to value them at: fixed at posting, the item's current cost before."""
    stmt = (select(StocktakeLine, StockItem.unit_cost).join(StockItem, StockItem.id == StocktakeLine.stock_item_id)
            .where(StocktakeLine.stocktake_id == stocktake.id).execution_options(populate_existing=True)
            .order_by(StocktakeLine.code, StocktakeLine.id))
    return [(line, line.unit_cost if line.unit_cost is not None else cost) for line, cost in (await session.execute(stmt)).all()]


def line_read(line: StocktakeLine, cost: Decimal) -> StocktakeLineRead:
    book, counted = line.book_at_count, line.counted_quantity
    book_value = money(book, cost) if book is not None else None
    counted_value = money(counted, cost) if counted is not None else None
    return StocktakeLineRead(
        stock_item_id=line.stock_item_id, code=line.code, name=line.name, unit=line.unit,
        snapshot_quantity=line.snapshot_quantity, movements_since=book - line.snapshot_quantity if book is not None else None,
        book_quantity=book, counted_quantity=counted, difference=line.difference, unit_cost=cost, book_value=book_value,
        counted_value=counted_value,
        # The difference in money is counted value less book value, so the totals add up exactly.
        difference_value=counted_value - book_value if counted_value is not None and book_value is not None else None,
        counted_at=line.counted_at, counted_by=line.counted_by, note=line.note, adjustment_id=line.adjustment_id)


def head_read(row: Stocktake, lines: Sequence[StocktakeLine]) -> StocktakeRead:
    return StocktakeRead(
        id=row.id, estate_id=row.estate_id, reference=row.reference, month=row.month, status=row.status,
        opened_at=row.opened_at, opened_by=row.opened_by, due_at=row.due_at, note=row.note, posted_at=row.posted_at,
        posted_by=row.posted_by, cancelled_at=row.cancelled_at, cancel_reason=row.cancel_reason, reminded_at=row.reminded_at,
        flagged_overdue_at=row.flagged_overdue_at, line_count=len(lines), version=row.version,
        counted_count=sum(1 for line in lines if line.counted_quantity is not None),
        allowed_actions=STOCKTAKE_TRANSITIONS.allowed_actions(StocktakeStatus(row.status)))


async def detail(session: AsyncSession, row: Stocktake) -> StocktakeDetail:
    lines = await lines_of(session, row)
    head = head_read(row, [line for line, _ in lines])
    return StocktakeDetail(**head.model_dump(), lines=[line_read(line, cost) for line, cost in lines])


async def get_stocktake(session: AsyncSession, *, actor: Actor, stocktake_id: uuid.UUID) -> StocktakeDetail:
    return await detail(session, await load_visible(session, STOCKTAKE, stocktake_id, actor=actor))


class StocktakeSort(StrEnum):
    """The keys stocktakes sort by."""

    opened_at = "opened_at"
    month = "month"
    status = "status"


async def list_stocktakes(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
                          status: StocktakeStatus | None = None, month: str | None = None) -> tuple[list[StocktakeRead], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    stmt: Select[Any] = select(Stocktake).where(Stocktake.estate_id == estate_id)
    if status is not None:
        stmt = stmt.where(Stocktake.status == status.value)
    if month is not None:
        stmt = stmt.where(Stocktake.month == month)
    sortable = {
        StocktakeSort.opened_at: Stocktake.opened_at, StocktakeSort.month: Stocktake.month,
        StocktakeSort.status: Stocktake.status,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[Stocktake.opened_at.desc(), Stocktake.id])
    lines = (await session.execute(select(StocktakeLine).where(StocktakeLine.stocktake_id.in_([r.id for r in rows])))).scalars()
    by_count: dict[uuid.UUID, list[StocktakeLine]] = {r.id: [] for r in rows}
    for line in lines:
        by_count[line.stocktake_id].append(line)
    return [head_read(r, by_count[r.id]) for r in rows], total


# --- opening -------------------------------------------------------------------------------

async def _reference(session: AsyncSession, *, estate_id: uuid.UUID, month: str) -> str:
    n = (await session.execute(select(func.count()).select_from(Stocktake).where(
        Stocktake.estate_id == estate_id, Stocktake.month == month))).scalar_one()
    return f"PD-{month.replace('-', '')}-{n + 1:02d}"


async def open_for(session: AsyncSession, *, estate: Estate, actor: Actor, month: str, note: str = "",
                   now: datetime | None = None) -> Stocktake:
    """Open a count and snapshot the book of every active item; StocktakeAlreadyOpen when one is in progress."""
    now = now or utcnow()
    items = list((await session.execute(select(StockItem).where(StockItem.estate_id == estate.id, StockItem.active.is_(True))
                                        .execution_options(populate_existing=True))).scalars())
    if not items:
        raise NothingToCount(estate_id=str(estate.id))
    row = Stocktake(estate_id=estate.id, reference=await _reference(session, estate_id=estate.id, month=month), month=month,
                    opened_at=now, opened_by=None if actor.is_system else actor.id, due_at=month_end(estate, month), note=note)
    try:
        # Added inside the savepoint: a refused row leaves the session with it.
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise StocktakeAlreadyOpen(estate_id=str(estate.id)) from None
    session.add_all([StocktakeLine(estate_id=estate.id, stocktake_id=row.id, stock_item_id=i.id, code=i.code, name=i.name,
                                   unit=i.unit, snapshot_quantity=i.quantity) for i in items])
    await session.flush()
    await audit.record(session, actor=actor, action="stocktake.open", row=row, after={**snapshot(row), "items": len(items)})
    return row


async def open_count(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: StocktakeCreate,
                     now: datetime | None = None) -> StocktakeDetail:
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    now = now or utcnow()
    row = await open_for(session, estate=estate, actor=actor, month=month_of(estate, now), note=data.note, now=now)
    return await detail(session, row)


# --- counting, posting, cancelling --------------------------------------------------------

async def enter_counts(session: AsyncSession, *, actor: Actor, stocktake_id: uuid.UUID, data: CountsIn,
                       now: datetime | None = None, expected_version: int | None = None) -> StocktakeDetail:
    row = await load_visible(session, STOCKTAKE, stocktake_id, actor=actor, lock=True, expected_version=expected_version)
    row.check("count")
    ids = [c.stock_item_id for c in data.lines]
    if len(set(ids)) != len(ids):
        raise DuplicateCountLine(field="lines")
    lines = {line.stock_item_id: line for line, _ in await lines_of(session, row)}
    for i, c in enumerate(data.lines):
        if c.stock_item_id not in lines:
            raise ItemNotInStocktake(field=f"lines.{i}.stock_item_id", stock_item_id=str(c.stock_item_id))
    # The book as it stands now, committed: what the shelves should hold at the moment of counting.
    books = dict((await session.execute(select(StockItem.id, StockItem.quantity).where(StockItem.id.in_(ids)))).all())
    now = now or utcnow()
    for c in data.lines:
        line = lines[c.stock_item_id]
        line.book_at_count, line.counted_quantity, line.note = books[c.stock_item_id], c.counted_quantity, c.note
        line.counted_at, line.counted_by = now, None if actor.is_system else actor.id
        session.add(line)
    counts = [{"stock_item_id": c.stock_item_id, "counted": c.counted_quantity, "book": books[c.stock_item_id]}
              for c in data.lines]
    # The count's lines are its own rows: a second count leaves the stocktake row as it was, and
    # its version (the ETag of what the count shows) must move all the same.
    versions.touch(row, "note")
    await audit.apply(session, actor=actor, row=row, action="count", audit_extra={"counts": counts})
    return await detail(session, row)


async def post(session: AsyncSession, *, actor: Actor, stocktake_id: uuid.UUID, now: datetime | None = None) -> StocktakeDetail:
    """Book every difference as an adjustment with the count's reference; the count is then immutable."""
    row = await load_visible(session, STOCKTAKE, stocktake_id, actor=actor, lock=True)
    row.check("post")
    lines = [line for line, _ in await lines_of(session, row)]
    missing = [line.name for line in lines if line.counted_quantity is None]
    if missing:
        raise StocktakeIncomplete(f"{len(missing)} item(s) not counted", uncounted=missing[:20])
    now = now or utcnow()
    stmt = (select(StockItem).where(StockItem.id.in_([line.stock_item_id for line in lines])).order_by(StockItem.id)
            .with_for_update().execution_options(populate_existing=True))
    items = {i.id: i for i in (await session.execute(stmt)).scalars()}
    for line in lines:
        item = items[line.stock_item_id]
        line.unit_cost = item.unit_cost
        diff = line.difference
        if diff:
            moved = await movements.apply(session, actor=actor, item=item, kind=MovementKind.adjusted, quantity=diff, at=now,
                                          stocktake_id=row.id, reference=row.reference, note="盤存差異")
            line.adjustment_id = moved.id
        session.add(line)
    await audit.apply(session, actor=actor, row=row, action="post", by=None if actor.is_system else actor.id, at=now)
    return await detail(session, row)


async def cancel(session: AsyncSession, *, actor: Actor, stocktake_id: uuid.UUID, data: CancelIn,
                 now: datetime | None = None) -> StocktakeDetail:
    row = await load_visible(session, STOCKTAKE, stocktake_id, actor=actor, lock=True)
    await audit.apply(session, actor=actor, row=row, action="cancel", by=None if actor.is_system else actor.id,
                      at=now or utcnow(), reason=data.reason)
    return await detail(session, row)


# --- the month-end jobs ---------------------------------------------------------------------

async def staff_with(session: AsyncSession, *, estate_id: uuid.UUID, roles: Sequence[Role]) -> list[dict[str, str]]:
    stmt = (select(User.id, User.full_name).join(UserEstate, UserEstate.user_id == User.id)
            .where(UserEstate.estate_id == estate_id, User.is_active.is_(True), or_(*[any_(User.roles) == r.value for r in roles]))
            .order_by(User.full_name, User.id))
    return [{"id": str(i), "name": n} for i, n in (await session.execute(stmt)).all()]


async def open_month_end(session: AsyncSession, *, estate: Estate, month: str, now: datetime | None = None) -> dict[str, Any]:
    """Open the month's count unless one is in progress or the month is counted already; remind the desk once."""
    now = now or utcnow()
    actor = system_actor("job:stocktake_open")
    current = (await session.execute(select(Stocktake).where(
        Stocktake.estate_id == estate.id, Stocktake.status.in_(OPEN_VALUES)).with_for_update())).scalar_one_or_none()
    opened = False
    if current is None:
        posted = (await session.execute(select(Stocktake.reference).where(
            Stocktake.estate_id == estate.id, Stocktake.month == month,
            Stocktake.status == StocktakeStatus.posted.value))).scalars().first()
        if posted is not None:
            return {"month": month, "opened": False, "reminded": False, "reason": f"{posted} already posted"}
        try:
            current = await open_for(session, estate=estate, actor=actor, month=month, now=now)
        except NothingToCount:
            return {"month": month, "opened": False, "reminded": False, "reason": "no active stock items"}
        opened = True
    reminded = current.reminded_at is None
    if reminded:
        desk = await staff_with(session, estate_id=estate.id, roles=[Role.receptionist])
        await audit.apply(session, actor=actor, row=current, action="remind", at=now,
                          audit_extra={"alert": {"to": "desk", "staff": desk, "due_at": current.due_at}})
    await session.flush()
    return {"month": month, "opened": opened, "reminded": reminded, "stocktake_id": str(current.id),
            "reference": current.reference, "due_at": current.due_at.isoformat()}


async def flag_overdue(session: AsyncSession, *, estate: Estate, month: str, now: datetime | None = None) -> dict[str, Any]:
    """Flag the month's counts not posted by month end (each once); say so when the month was never counted."""
    now = now or utcnow()
    actor = system_actor("job:stocktake_overdue")
    rows = list((await session.execute(select(Stocktake).where(
        Stocktake.estate_id == estate.id, Stocktake.month == month, Stocktake.status.in_(OPEN_VALUES),
        Stocktake.flagged_overdue_at.is_(None)).with_for_update())).scalars())
    alert = {"to": "supervisor", "staff": await staff_with(session, estate_id=estate.id, roles=[Role.supervisor, Role.finance])}
    for row in rows:
        await audit.apply(session, actor=actor, row=row, action="flag_overdue", at=now, audit_extra={"alert": alert})
    posted = (await session.execute(select(func.count()).select_from(Stocktake).where(
        Stocktake.estate_id == estate.id, Stocktake.month == month,
        Stocktake.status == StocktakeStatus.posted.value))).scalar_one()
    await session.flush()
    return {"month": month, "flagged": [{"stocktake_id": str(r.id), "reference": r.reference, "status": r.status} for r in rows],
            "count": len(rows), "posted": posted > 0}
