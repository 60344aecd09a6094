"""A desk, technicians and work orders to dispatch, and local times of the estate."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.domain.auth.roles import Role
from app.domain.registry.model import Estate
from app.domain.repairs.model import WorkOrder
from tests.factories import Staff, make_staff
from tests.registry_factories import make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"

TZ = ZoneInfo("Asia/Shanghai")


def local(hour: int, minute: int = 0, *, days: int = 1) -> datetime:
    """A time on a coming day in the estate's zone (Asia/Shanghai), so office hours apply."""
    day = datetime.now(TZ).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def window(start: datetime, end: datetime, **extra: object) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat(), **extra}


@dataclass
class Desk:
    estate: Estate
    other: Estate
    desk: Staff
    tech: Staff
    order: WorkOrder


async def desk_world(session, **order_kw) -> Desk:
    estate, other = await two_estates(session)
    building = await make_building(session, estate=estate, number=8)
    unit = await make_unit(session, building=building, entrance="2", number="301")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")
    order = await make_order(session, estate=estate, unit=unit, **order_kw)
    return Desk(estate, other, desk, tech, order)


async def dispatch(client, w: Desk, start: datetime, end: datetime, *, tech: Staff | None = None, order=None):
    order = order or w.order
    body = window(start, end, technician_id=str((tech or w.tech).id))
    return await client.post(f"{API}/work-orders/{order.id}/dispatch", json=body, headers=w.desk.headers)
