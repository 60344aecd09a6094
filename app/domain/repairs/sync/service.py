"""A technician's sync: his open orders, their units and owners, categories and stock, since a cursor.

His view is his orders that are still work to do (awaiting his time, dispatched, in progress),
the units and owners those orders name, and the active repair categories and stock items of
his estates. Without a cursor the answer is all of it; with one, what changed since (see
cursor.py) and tombstones for what left the view. Stock items, the one list that can be long,
come in pages of `limit`; the rest is bounded by his open orders and comes whole.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, exists, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.registry.model import Building, Estate, Owner, OwnerPhone, Unit, UnitOwner
from app.domain.registry.names import place
from app.domain.registry.script import Script
from app.domain.repairs.intake.model import RepairCategory
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.sync import cursor as cursors
from app.domain.repairs.sync.schemas import (
    SyncCategory,
    SyncKind,
    SyncOrder,
    SyncOwner,
    SyncStockItem,
    SyncUnit,
    TechnicianSync,
    Tombstone,
    TombstoneReason,
)
from app.domain.stock.model import StockItem

S = WorkOrderStatus
IN_VIEW = (S.awaiting_technician_confirmation, S.dispatched, S.in_progress)
WRAP, HALF = 2**32, 2**31


def changed_since(table: str, cutoff: int | None) -> ColumnElement[bool]:
    """The row was written by the cutoff's transaction or a later one (row xmin is 32 bits: compared
    modulo 2^32, right for any row written within the last 2^31 transactions; an older row may
    be sent once more, never skipped)."""
    if cutoff is None:
        return true()
    xmin = literal_column(f'"{table}".xmin::text::bigint', type_=BigInteger)
    return ((xmin - (cutoff % WRAP) + WRAP) % WRAP) < HALF


async def _snapshot_xmin(session: AsyncSession) -> int:
    # The first read of the sync: every row read after it is at least as new as this snapshot.
    stmt = select(literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", type_=BigInteger))
    return int((await session.execute(stmt)).scalar_one())


@dataclass
class _Read:
    orders: list[SyncOrder]
    order_ids: frozenset[uuid.UUID]
    units: list[SyncUnit]
    unit_ids: frozenset[uuid.UUID]
    owners: list[SyncOwner]
    owner_ids: frozenset[uuid.UUID]


def _order(o: WorkOrder, r: ServiceRequest) -> SyncOrder:
    return SyncOrder(id=o.id, estate_id=o.estate_id, number=o.number, status=o.status, allowed_actions=o.allowed_actions(),
                     category=o.category, urgency=r.urgency, description=r.description, unit_id=o.unit_id,
                     building_id=o.building_id, is_public_area=o.is_public_area, location=r.location, owner_id=r.owner_id,
                     contact_name=r.contact_name, contact_phone=r.contact_phone, scheduled_start=o.scheduled_start,
                     scheduled_end=o.scheduled_end, dispatched_at=o.dispatched_at, accepted_at=o.accepted_at,
                     started_at=o.started_at, created_at=o.created_at)


async def _orders(session: AsyncSession, *, actor: Actor, estates: list[uuid.UUID], prev: cursors.Cursor | None
                  ) -> tuple[list[SyncOrder], list[WorkOrder], set[uuid.UUID]]:
    """His orders in view: those to send, all of them, and the owners their requests name."""
    cutoff = prev.cutoff if prev else None
    changed = (changed_since("work_order", cutoff) | changed_since("service_request", cutoff)).label("changed")
    rows = (await session.execute(
        select(WorkOrder, ServiceRequest, changed).join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id)
        .where(WorkOrder.technician_id == actor.id, WorkOrder.estate_id.in_(estates), WorkOrder.status.in_(IN_VIEW))
        .order_by(WorkOrder.scheduled_start.nulls_last(), WorkOrder.id))).all()
    sent = [_order(o, r) for o, r, ch in rows if ch or prev is None or o.id not in prev.orders]
    return sent, [o for o, _, _ in rows], {r.owner_id for _, r, _ in rows if r.owner_id}


async def _units(session: AsyncSession, *, ids: set[uuid.UUID], prev: cursors.Cursor | None,
                 scripts: dict[uuid.UUID, Script]) -> tuple[list[SyncUnit], dict[uuid.UUID, list[uuid.UUID]]]:
    cutoff = prev.cutoff if prev else None
    links_changed = exists().where(UnitOwner.unit_id == Unit.id, changed_since("unit_owner", cutoff))
    changed = (changed_since("unit", cutoff) | changed_since("building", cutoff) | links_changed).label("changed")
    rows = (await session.execute(select(Unit, Building, changed).join(Building, Building.id == Unit.building_id)
                                  .where(Unit.id.in_(ids)).order_by(Unit.id))).all()
    owners: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for unit_id, owner_id in (await session.execute(select(UnitOwner.unit_id, UnitOwner.owner_id).where(
            UnitOwner.unit_id.in_(ids)).order_by(UnitOwner.is_primary.desc(), UnitOwner.owner_id))).tuples():
        owners[unit_id].append(owner_id)
    sent = [SyncUnit(id=u.id, estate_id=u.estate_id, building_id=b.id, building_name=b.name, entrance=u.entrance,
                     number=u.number, floor=u.floor, label=place(u, b, script=scripts[u.estate_id]), is_public=u.is_public,
                     owner_ids=owners[u.id])
            for u, b, ch in rows if ch or prev is None or u.id not in prev.units]
    return sent, owners


async def _owners(session: AsyncSession, *, ids: set[uuid.UUID], prev: cursors.Cursor | None) -> list[SyncOwner]:
    changed = changed_since("owner", prev.cutoff if prev else None).label("changed")
    rows = [(o, ch) for o, ch in (await session.execute(select(Owner, changed).where(Owner.id.in_(ids)).order_by(Owner.id))).all()
            if ch or prev is None or o.id not in prev.owners]
    phones: dict[uuid.UUID, list[str]] = defaultdict(list)
    for owner_id, phone in (await session.execute(select(OwnerPhone.owner_id, OwnerPhone.phone).where(
            OwnerPhone.owner_id.in_([o.id for o, _ in rows])).order_by(OwnerPhone.created_at, OwnerPhone.id))).tuples():
        phones[owner_id].append(phone)
    return [SyncOwner(id=o.id, estate_id=o.estate_id, full_name=o.full_name, title=o.title, phones=phones[o.id])
            for o, _ in rows]


async def _left_orders(session: AsyncSession, *, actor: Actor, estates: list[uuid.UUID], ids: set[uuid.UUID]
                       ) -> list[Tombstone]:
    """Why each order left his view, as far as he may know it: not who has it now."""
    found = {o.id: o for o in (await session.execute(select(WorkOrder).where(
        WorkOrder.id.in_(ids), WorkOrder.estate_id.in_(estates)))).scalars()}
    out = []
    for order_id in sorted(ids):
        o = found.get(order_id)
        if o is None:
            reason = TombstoneReason.no_longer_visible
        elif WorkOrderStatus(o.status) == S.cancelled:
            reason = TombstoneReason.cancelled
        elif o.technician_id is None:
            reason = TombstoneReason.returned_to_desk
        elif o.technician_id != actor.id:
            reason = TombstoneReason.reassigned
        else:
            reason = TombstoneReason.completed
        out.append(Tombstone(kind=SyncKind.work_order, id=order_id, reason=reason))
    return out


def _gone(kind: SyncKind, ids: set[uuid.UUID], reason: TombstoneReason) -> list[Tombstone]:
    return [Tombstone(kind=kind, id=i, reason=reason) for i in sorted(ids)]


async def _view(session: AsyncSession, *, actor: Actor, estates: list[uuid.UUID], prev: cursors.Cursor | None,
                scripts: dict[uuid.UUID, Script]) -> tuple[_Read, list[Tombstone]]:
    orders, in_view, reporters = await _orders(session, actor=actor, estates=estates, prev=prev)
    order_ids = frozenset(o.id for o in in_view)
    unit_ids = {o.unit_id for o in in_view if o.unit_id is not None}
    units, links = await _units(session, ids=unit_ids, prev=prev, scripts=scripts)
    owner_ids = reporters | {o for owners in links.values() for o in owners}
    owners = await _owners(session, ids=owner_ids, prev=prev)
    tombstones: list[Tombstone] = []
    if prev is not None:
        tombstones += await _left_orders(session, actor=actor, estates=estates, ids=set(prev.orders - order_ids))
        tombstones += _gone(SyncKind.unit, set(prev.units - unit_ids), TombstoneReason.not_on_your_orders)
        tombstones += _gone(SyncKind.owner, set(prev.owners - owner_ids), TombstoneReason.not_on_your_orders)
    read = _Read(orders, order_ids, units, frozenset(unit_ids), owners, frozenset(owner_ids))
    return read, tombstones


async def _categories(session: AsyncSession, *, estates: list[uuid.UUID], cutoff: int | None
                      ) -> tuple[list[SyncCategory], list[Tombstone]]:
    rows = (await session.execute(select(RepairCategory).where(
        RepairCategory.estate_id.in_(estates), changed_since("repair_category", cutoff))
        .order_by(RepairCategory.estate_id, RepairCategory.sort, RepairCategory.code))).scalars().all()
    live = [SyncCategory(id=c.id, estate_id=c.estate_id, code=c.code, name=c.name, sort=c.sort) for c in rows if c.active]
    gone = [] if cutoff is None else _gone(SyncKind.category, {c.id for c in rows if not c.active}, TombstoneReason.inactive)
    return live, gone


def _stock_query(*, estates: list[uuid.UUID], cutoff: int | None, after: uuid.UUID | None) -> Select[Any]:
    stmt = select(StockItem).where(StockItem.estate_id.in_(estates), changed_since("stock_item", cutoff))
    if cutoff is None:
        stmt = stmt.where(StockItem.active.is_(True))
    if after is not None:
        stmt = stmt.where(StockItem.id > after)
    return stmt.order_by(StockItem.id)


async def _stock(session: AsyncSession, *, estates: list[uuid.UUID], cutoff: int | None, after: uuid.UUID | None,
                 limit: int) -> tuple[list[SyncStockItem], list[Tombstone], uuid.UUID | None]:
    """One page of stock items: (live, tombstones, the last id when more follow)."""
    rows = list((await session.execute(_stock_query(estates=estates, cutoff=cutoff, after=after).limit(limit + 1))).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    live = [SyncStockItem(id=i.id, estate_id=i.estate_id, code=i.code, name=i.name, category=i.category, unit=i.unit,
                          quantity=i.quantity) for i in rows if i.active]
    gone = _gone(SyncKind.stock_item, {i.id for i in rows if not i.active}, TombstoneReason.inactive)
    return live, gone, rows[-1].id if more and rows else None


async def _scripts(session: AsyncSession, estates: list[uuid.UUID]) -> dict[uuid.UUID, Script]:
    rows = (await session.execute(select(Estate.id, Estate.script).where(Estate.id.in_(estates)))).tuples()
    return {estate_id: Script(script) for estate_id, script in rows}


async def sync(session: AsyncSession, *, actor: Actor, since: str | None, key: bytes, limit: int) -> TechnicianSync:
    """Everything for the technician since `since` (a cursor this returned), or all of it."""
    assert actor.id is not None  # a technician: a person
    prev = cursors.decode(since, key=key, user_id=actor.id) if since else None
    estates = sorted(actor.estate_ids)
    if prev is not None and prev.stock_after is not None:
        return await _next_page(session, prev=prev, estates=estates, key=key, limit=limit)
    cutoff = await _snapshot_xmin(session)
    since_cutoff = prev.cutoff if prev else None
    view, tombstones = await _view(session, actor=actor, estates=estates, prev=prev, scripts=await _scripts(session, estates))
    categories, gone = await _categories(session, estates=estates, cutoff=since_cutoff)
    stock, stock_gone, after = await _stock(session, estates=estates, cutoff=since_cutoff, after=None, limit=limit)
    nxt = cursors.Cursor(user_id=actor.id, cutoff=cutoff, orders=view.order_ids, units=view.unit_ids, owners=view.owner_ids,
                         stock_after=after, stock_since=since_cutoff if after is not None else None)
    return TechnicianSync(full=prev is None, more=after is not None, cursor=cursors.encode(nxt, key=key),
                          server_time=utcnow(), orders=view.orders, units=view.units, owners=view.owners,
                          categories=categories, stock_items=stock, tombstones=tombstones + gone + stock_gone)


async def _next_page(session: AsyncSession, *, prev: cursors.Cursor, estates: list[uuid.UUID], key: bytes,
                     limit: int) -> TechnicianSync:
    """The next page of a sync's stock items, read as its first page was (all, or changed since
    the same cutoff); the last page's cursor is the one for the next sync."""
    stock, gone, after = await _stock(session, estates=estates, cutoff=prev.stock_since, after=prev.stock_after, limit=limit)
    nxt = replace(prev, stock_after=after, stock_since=prev.stock_since if after is not None else None)
    return TechnicianSync(full=False, more=after is not None, cursor=cursors.encode(nxt, key=key), server_time=utcnow(),
                          orders=[], units=[], owners=[], categories=[], stock_items=stock, tombstones=gone)
