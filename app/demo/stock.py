"""The demo's store room (§5.7): stock items per estate, five weeks of movements, last month's posted
stocktake and this month's count in progress.

Everything goes through the stock services, replayed in time order, so the book, the ledger and
the counts agree exactly as the services would have left them. Materials go to the work orders
completed in the window, at their completion. Seeded like the rest of the demo.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.registry.model import Estate
from app.domain.repairs.model import WorkOrder
from app.domain.stock import movements, stocktake
from app.domain.stock.model import MovementKind, StockCategory, StockItem, Stocktake
from app.domain.stock.schemas import CountIn, CountsIn

if TYPE_CHECKING:
    from app.demo import DemoContext

HISTORY_DAYS = 35
C = StockCategory
# (code, name, category, unit, unit cost, stock at the start, a usual draw)
CATALOGUE = [
    ("PVC-20", "PVC水管20mm", C.material, "米", "6.50", "120", ("0.5", "4")),
    ("BV-2.5", "电线BV2.5", C.material, "米", "3.20", "300", ("1", "12")),
    ("CEM-50", "水泥50kg", C.material, "袋", "28.00", "20", ("1", "2")),
    ("VALVE-01", "水龙头阀芯", C.spare_part, "个", "15.00", "30", ("1", "2")),
    ("LED-9W", "LED灯泡9W", C.spare_part, "个", "12.00", "60", ("1", "3")),
    ("MCB-16", "空气开关16A", C.spare_part, "个", "35.00", "15", ("1", "1")),
    ("LOCK-01", "门锁锁芯", C.spare_part, "个", "45.00", "10", ("1", "1")),
    ("PTFE", "生料带", C.consumable, "卷", "2.00", "80", ("1", "2")),
    ("TAPE-E", "电工胶布", C.consumable, "卷", "3.50", "50", ("1", "2")),
    ("GLOVE", "劳保手套", C.consumable, "副", "4.00", "40", ("1", "2")),
]
ISSUE_SHARE = 0.45  # completed orders that drew from the store


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    kind: str  # receive, issue, open_last, count_last, post_last, open_this, count_this
    item: int = 0
    quantity: Decimal = Decimal("0")
    order_id: uuid.UUID | None = None


def _actor(ctx: DemoContext, estate: Estate, suffix: str) -> Actor:
    """The estate's demo user (qs.reception, qs.supervisor) acting through the services."""
    user = next(u for u in ctx.users if u.username == f"{estate.code.lower()}.{suffix}")
    return Actor(id=user.id, label=user.full_name, company_id=user.company_id, roles=frozenset(Role(r) for r in user.roles),
                 estate_ids=frozenset({estate.id}))


def _draw(rng: random.Random, low: str, high: str) -> Decimal:
    lo, hi = Decimal(low), Decimal(high)
    if lo == lo.to_integral_value() and hi == hi.to_integral_value():
        return Decimal(rng.randint(int(lo), int(hi)))
    return (lo + (hi - lo) * Decimal(rng.randint(0, 10)) / 10).quantize(Decimal("0.1"))


async def _items(ctx: DemoContext, estate: Estate, actor: Actor, start: datetime) -> list[StockItem]:
    rows = [StockItem(estate_id=estate.id, code=code, name=name, category=cat, unit=unit, unit_cost=Decimal(cost), created_at=start)
            for code, name, cat, unit, cost, _, _ in CATALOGUE]
    ctx.add("stock_items", rows)
    await ctx.session.flush()
    for row, spec in zip(rows, CATALOGUE, strict=True):
        await movements.apply(ctx.session, actor=actor, item=row, kind=MovementKind.received, quantity=Decimal(spec[5]),
                              at=start, reference="期初库存")
    return rows


def _events(rng: random.Random, tz: ZoneInfo, now: datetime, orders: list[tuple[uuid.UUID, datetime]]) -> list[_Event]:
    local_now = now.astimezone(tz)
    first_this, _ = estate_time.month_bounds(estate_time.month_key(local_now.date()), tz)
    last_25 = datetime.combine(estate_time.add_months(first_this.date(), -1).replace(day=25), time(9), tzinfo=tz)
    count_last, post_last = last_25 + timedelta(days=1, hours=1), last_25 + timedelta(days=2, hours=7)
    # This month's count opened two days ago or at 09:00 on the 1st, and half an hour before now at
    # the latest -- but never before the month began: loaded at 00:20 on the 1st, "half an hour
    # ago" was last month, and the demo opened a second count of last month.
    open_this = max(first_this + timedelta(hours=9), now - timedelta(days=2))
    open_this = max(first_this, min(open_this, now - timedelta(minutes=30)))
    count_this = min(max(open_this + timedelta(seconds=1), min(open_this + timedelta(hours=2), now - timedelta(minutes=5))), now)
    events = [_Event(last_25, 0, "open_last"), _Event(count_last, 0, "count_last"), _Event(post_last, 0, "post_last"),
              _Event(open_this, 0, "open_this"), _Event(count_this, 0, "count_this")]
    seq = 1
    for order_id, at in orders:
        # Nothing moves between last month's count and its posting: the posted figures stay whole.
        if rng.random() < ISSUE_SHARE and not (count_last <= at <= post_last):
            for item in rng.sample(range(len(CATALOGUE)), rng.randint(1, 2)):
                events.append(_Event(at, seq, "issue", item, _draw(rng, *CATALOGUE[item][6]), order_id))
                seq += 1
    day = estate_time.today(tz, now=now - timedelta(days=HISTORY_DAYS))
    while day < local_now.date():
        at = datetime.combine(day, time(10, 30), tzinfo=tz)
        if day.weekday() == 0 and not (count_last <= at <= post_last):  # Monday deliveries
            events += [_Event(at, seq + n, "receive", item) for n, item in enumerate(range(len(CATALOGUE)))]
            seq += len(CATALOGUE)
        day += timedelta(days=1)
    return sorted(events)


async def _count_all(ctx: DemoContext, rng: random.Random, st: Stocktake, actor: Actor, at: datetime, *, share: float) -> None:
    lines = [line for line, _ in await stocktake.lines_of(ctx.session, st)]
    books = {i.id: i.quantity for i in (await ctx.session.execute(select(StockItem).where(
        StockItem.id.in_([line.stock_item_id for line in lines])))).scalars()}
    # A count in progress always has something left to count.
    chosen = lines if share >= 1 else [line for line in lines[:-1] if rng.random() < share]
    counts = []
    for n, line in enumerate(chosen):
        book = books[line.stock_item_id]
        # Most shelves agree with the book; now and then one is short, rarely one over -- and the
        # first always differs, so the report has a difference to show.
        delta = rng.choice([Decimal(0)] * 6 + [Decimal(-1), Decimal(-2), Decimal(1)]) if n else Decimal(1)
        counts.append(CountIn(stock_item_id=line.stock_item_id, counted_quantity=max(book + delta, Decimal(0)),
                              note="货架上多出" if delta > 0 else ""))
    if counts:
        await stocktake.enter_counts(ctx.session, actor=actor, stocktake_id=st.id, data=CountsIn(lines=counts), now=at)


async def _replay(ctx: DemoContext, rng: random.Random, estate: Estate, items: list[StockItem],
                  events: list[_Event]) -> None:
    desk, boss = _actor(ctx, estate, "reception"), _actor(ctx, estate, "supervisor")
    tz, current = estate_time.estate_zone(estate), None
    for ev in events:
        if ev.kind in ("open_last", "open_this"):
            current = await stocktake.open_for(
                ctx.session, estate=estate, actor=desk, month=estate_time.month_key(estate_time.today(tz, now=ev.at)), now=ev.at
            )
        elif ev.kind in ("count_last", "count_this"):
            assert current is not None  # the events open a count before they count it
            await _count_all(ctx, rng, current, desk, ev.at, share=1.0 if ev.kind == "count_last" else 0.6)
        elif ev.kind == "post_last":
            assert current is not None
            await stocktake.post(ctx.session, actor=boss, stocktake_id=current.id, now=ev.at)
        elif ev.kind == "receive":
            item = items[ev.item]
            top_up = Decimal(CATALOGUE[ev.item][5]) - item.quantity
            if top_up > Decimal(CATALOGUE[ev.item][5]) / 3:  # restock what ran below two thirds
                await movements.apply(
                    ctx.session,
                    actor=desk,
                    item=item,
                    kind=MovementKind.received,
                    quantity=top_up,
                    at=ev.at,
                    reference=f"入库单 {ev.at:%Y%m%d}",
                )
        elif items[ev.item].quantity >= ev.quantity:
            await movements.apply(
                ctx.session,
                actor=desk,
                item=items[ev.item],
                kind=MovementKind.issued,
                quantity=-ev.quantity,
                at=ev.at,
                work_order_id=ev.order_id,
            )


async def stock_history(ctx: DemoContext) -> None:
    now = utcnow()
    rng = random.Random(ctx.rng.random())
    for estate in ctx.estates:
        start = now - timedelta(days=HISTORY_DAYS + 1)
        items = await _items(ctx, estate, _actor(ctx, estate, "reception"), start)
        orders = [
            (i, at)
            for i, at in (
                await ctx.session.execute(
                    select(WorkOrder.id, WorkOrder.completed_at)
                    .where(WorkOrder.estate_id == estate.id, WorkOrder.completed_at > start, WorkOrder.completed_at < now)
                    .order_by(WorkOrder.completed_at, WorkOrder.id)
                )
            ).all()
            if at is not None
        ]
        await _replay(ctx, rng, estate, items, _events(rng, estate_time.estate_zone(estate), now, orders))
    await ctx.session.flush()
