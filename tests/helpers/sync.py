"""A technician's round: his estate with orders, units, owners, categories and stock, and his app's sync calls."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.auth.roles import Role
from app.domain.registry.model import Building, Estate, Owner, Unit
from app.domain.repairs.intake.model import RepairCategory
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.stock.model import StockItem
from tests.factories import Staff, make_staff
from tests.registry_factories import make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
SYNC = f"{API}/technicians/me/sync"
S = WorkOrderStatus


@dataclass
class Round:
    estate: Estate
    other: Estate
    building: Building
    desk: Staff
    tech: Staff
    rival: Staff
    units: list[Unit]
    owners: list[Owner]
    orders: list[WorkOrder]  # his: two dispatched, one in progress
    rivals_order: WorkOrder
    done: WorkOrder  # his, completed: not work to do any more
    stock: list[StockItem]


async def technician_round(session) -> Round:
    estate, other = await two_estates(session)
    building = await make_building(session, estate=estate, number=8)
    units = [await make_unit(session, building=building, entrance="2", number=n) for n in ("301", "302", "401", "501")]
    owners = [await make_owner(session, estate=estate, full_name="王建國", phones=["138 0013 8000"], units=[units[0]]),
              await make_owner(session, estate=estate, full_name="李秀英", phones=["139-0013-9000"], units=[units[1]]),
              await make_owner(session, estate=estate, full_name="趙敏", phones=["13700137000"], units=[units[2]]),
              await make_owner(session, estate=estate, full_name="孫立", units=[units[3]])]
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")
    rival = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="劉師傅")
    orders = [await make_order(session, estate=estate, unit=units[0], technician=tech.user, status=S.dispatched),
              await make_order(session, estate=estate, unit=units[1], technician=tech.user, status=S.dispatched),
              await make_order(session, estate=estate, unit=units[2], technician=tech.user, status=S.dispatched)]
    rivals = await make_order(session, estate=estate, unit=units[3], technician=rival.user, status=S.dispatched)
    done = await make_order(session, estate=estate, unit=units[3], technician=tech.user, status=S.completed)
    session.add_all([RepairCategory(estate_id=estate.id, code="plumbing", name="水暖", sort=1),
                     RepairCategory(estate_id=estate.id, code="electric", name="電氣", sort=2),
                     RepairCategory(estate_id=other.id, code="plumbing", name="水暖")])
    stock = [StockItem(estate_id=estate.id, code=f"V-{i}", name=f"閥芯{i}", unit="個", quantity=Decimal("5")) for i in range(3)]
    session.add_all([*stock, StockItem(estate_id=other.id, code="V-0", name="閥芯0", unit="個", quantity=Decimal("9"))])
    # Registered at the desk the evening before: the day's device times come after.
    for order in [*orders, rivals, done]:
        order.created_at -= timedelta(days=1)
    await session.commit()
    return Round(estate, other, building, desk, tech, rival, units, owners, orders, rivals, done, stock)


async def sync(client, staff: Staff, since: str | None = None, **params) -> dict:
    r = await client.get(SYNC, params={**({"since": since} if since else {}), **params}, headers=staff.headers)
    assert r.status_code == 200, r.text
    return r.json()


def ids(items: list[dict]) -> set[str]:
    return {i["id"] for i in items}


def tombstones(answer: dict, kind: str) -> dict[str, str]:
    """id -> reason of one kind's tombstones."""
    return {t["id"]: t["reason"] for t in answer["tombstones"] if t["kind"] == kind}


def queued(staff: Staff, key: str, at: datetime) -> dict[str, str]:
    """The headers of an action the app queued offline: its key and when it happened on the phone."""
    return {**staff.headers, "Idempotency-Key": key, "X-Device-Time": at.isoformat()}


def voucher_form(**kw) -> dict[str, str]:
    body = {"work_done": "更換水龍頭閥芯", "materials": [{"item": "閥芯0", "quantity": "1", "unit": "個"}],
            "minutes_spent": 40, "chargeable": False, "amount": "0", "owner_confirmation": {"name": "王建國"}, **kw}
    return {"voucher": json.dumps(body)}
