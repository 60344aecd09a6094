"""A store of stock items and booking movements over HTTP; counting a stocktake."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.registry.model import Estate
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.stock.model import StockItem, StockMovement
from tests.factories import Staff, make_staff
from tests.registry_factories import two_estates
from tests.repairs_factories import make_order

API = "/api/v1"


@dataclass
class Store:
    estate: Estate
    other: Estate
    desk: Staff  # receptionist: receives, issues, returns, counts
    boss: Staff  # supervisor: configures, adjusts, posts
    tech: Staff
    order: WorkOrder


async def store(session) -> Store:
    estate, other = await two_estates(session)
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
    tech = await make_staff(session, estates=[estate], roles=[Role.technician])
    order = await make_order(session, estate=estate, technician=tech.user, status=WorkOrderStatus.in_progress)
    return Store(estate, other, desk, boss, tech, order)


async def new_item(client, s: Store, *, code: str = "PVC-20", name: str = "PVC水管20mm", unit: str = "米",
                   cost: str = "6.50", stock: str | None = None, estate: Estate | None = None, staff: Staff | None = None) -> dict:
    r = await client.post(f"{API}/estates/{(estate or s.estate).id}/stock-items", headers=(staff or s.boss).headers,
                          json={"code": code, "name": name, "unit": unit, "unit_cost": cost, "category": "material"})
    assert r.status_code == 201, r.text
    item = r.json()
    if stock is not None:
        r = await client.post(f"{API}/stock-items/{item['id']}/receive", json={"quantity": stock}, headers=s.desk.headers)
        assert r.status_code == 201, r.text
        item["quantity"] = r.json()["balance_after"]
    return item


async def book(session, item_id) -> Decimal:
    return (await session.execute(select(StockItem.quantity).where(StockItem.id == item_id)
                                  .execution_options(populate_existing=True))).scalar_one()


async def ledger_sum(session, item_id) -> Decimal:
    return (await session.execute(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                  .where(StockMovement.stock_item_id == item_id))).scalar_one()


def this_month() -> str:
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


async def open_count(client, s: Store) -> dict:
    r = await client.post(f"{API}/estates/{s.estate.id}/stocktakes", json={"note": "十一月盤存"}, headers=s.desk.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def count(client, s: Store, st: dict, lines: dict) -> dict:
    body = {"lines": [{"stock_item_id": item["id"], "counted_quantity": q} for item, q in lines]}
    r = await client.put(f"{API}/stocktakes/{st['id']}/counts", json=body, headers=s.desk.headers)
    assert r.status_code == 200, r.text
    return r.json()
