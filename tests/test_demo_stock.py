"""The demo's store room: items, weeks of movements that add up, last month's posted count, this month's open one."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import demo
from app.demo.stock import _events, stock_history
from app.domain.base import utcnow
from app.domain.registry.model import Estate
from app.domain.stock.model import MovementKind, StockItem, StockMovement, Stocktake, StocktakeLine, StocktakeStatus


@pytest.mark.demo
async def test_demo_store_room(session):
    assert stock_history in demo.STEPS
    now = utcnow()
    for estate in (await session.execute(select(Estate).order_by(Estate.code))).scalars():
        items = list((await session.execute(select(StockItem).where(StockItem.estate_id == estate.id))).scalars())
        assert len(items) >= 8
        sums = dict((await session.execute(select(StockMovement.stock_item_id, func.sum(StockMovement.quantity))
                                           .where(StockMovement.estate_id == estate.id)
                                           .group_by(StockMovement.stock_item_id))).all())
        assert all(item.quantity == sums[item.id] and item.quantity >= 0 for item in items)
        kinds = dict((await session.execute(select(StockMovement.kind, func.count()).where(StockMovement.estate_id == estate.id)
                                            .group_by(StockMovement.kind))).all())
        assert kinds.get(MovementKind.issued.value, 0) > 10 and kinds.get(MovementKind.received.value, 0) > len(items)
        assert (await session.execute(select(func.max(StockMovement.at)))).scalar_one() <= now
        oldest = (await session.execute(select(func.min(StockMovement.at)).where(StockMovement.estate_id == estate.id))).scalar_one()
        assert oldest < now - timedelta(days=28)
        counts = list((await session.execute(select(Stocktake).where(Stocktake.estate_id == estate.id)
                                             .order_by(Stocktake.opened_at))).scalars())
        assert [c.status for c in counts] == [StocktakeStatus.posted.value, StocktakeStatus.counting.value]
        this_month = now.astimezone(ZoneInfo(estate.time_zone)).strftime("%Y-%m")
        assert counts[1].month == this_month and counts[0].month < this_month
        adjusted = (await session.execute(select(func.count()).select_from(StockMovement).where(
            StockMovement.stocktake_id == counts[0].id))).scalar_one()
        uncounted = (await session.execute(select(func.count()).select_from(StocktakeLine).where(
            StocktakeLine.stocktake_id == counts[1].id, StocktakeLine.counted_quantity.is_(None)))).scalar_one()
        assert adjusted > 0 and uncounted > 0


@pytest.mark.parametrize("local", [
    "2026-12-01 00:00:40", "2026-12-01 00:20", "2026-12-01 09:10", "2026-12-01 10:00", "2026-12-15 12:00",
    "2026-12-31 23:50", "2027-03-01 00:05",
])
def test_this_months_count_is_of_this_month_at_any_hour(local: str) -> None:
    """Loaded in the first minutes of a month, the count in progress is still this month's, opened
    before it is counted, and nothing happens after now."""
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime.fromisoformat(local).replace(tzinfo=tz).astimezone(UTC)
    events = {e.kind: e.at for e in _events(random.Random(1), tz, now, []) if e.kind.endswith(("_this", "_last"))}
    month = now.astimezone(tz).strftime("%Y-%m")
    assert events["open_this"].astimezone(tz).strftime("%Y-%m") == month
    assert events["open_last"].astimezone(tz).strftime("%Y-%m") < month
    assert events["open_last"] < events["count_last"] < events["post_last"] < events["open_this"] < events["count_this"] <= now
