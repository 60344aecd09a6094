"""A desk with completed work orders to call back, shared by the callback tests and jobs."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback
from app.domain.registry.model import Estate, Unit
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from tests.factories import Staff, make_staff
from tests.registry_factories import make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"


@dataclass
class Desk:
    estate: Estate
    other: Estate
    unit: Unit
    tech: Staff
    desk: Staff


async def desk_world(session) -> Desk:
    estate, other = await two_estates(session)
    building = await make_building(session, estate=estate, number=8)
    unit = await make_unit(session, building=building, entrance="2", number="301")
    await make_owner(session, estate=estate, full_name="王建國", phones=["138 0013 8000"], units=[unit])
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    return Desk(estate, other, unit, tech, desk)


async def completed(session, w: Desk, *, completed_at: datetime | None = None, unit: Unit | None = None,
                    tech: Staff | None = None, estate: Estate | None = None) -> tuple[WorkOrder, Callback]:
    order = await make_order(session, estate=estate or w.estate, unit=unit if unit is not None else w.unit,
                             technician=(tech or w.tech).user, status=WorkOrderStatus.completed,
                             completed_at=completed_at or utcnow() - timedelta(days=1), with_callback=True)
    cb = (await session.execute(select(Callback).where(Callback.work_order_id == order.id))).scalar_one()
    return order, cb


async def fresh(session, model: type, id_: Any) -> Any:
    return await session.get(model, id_, populate_existing=True)
