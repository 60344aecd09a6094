"""A building with a shared water meter (公摊) for the shared-meter tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from app.domain.auth.roles import Role
from app.domain.fees.model import FeeItem, FeeKind, MeterReading
from app.domain.registry.model import Building, Estate, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_fee_item
from tests.registry_factories import make_building, make_unit, two_estates

API = "/api/v1"


@dataclass
class World:
    estate: Estate
    other: Estate
    building: Building
    units: list[Unit]  # 89.20 + 520.30 + 595.00 = 1204.50 m², private
    public: Unit
    water: FeeItem  # the units' own meters
    shared: FeeItem  # 公摊水费, 3.20元/吨
    recorder: Staff  # finance
    approver: Staff  # another finance user
    supervisor: Staff
    desk: Staff
    outsider: Staff  # finance of the other estate


async def shared_world(session) -> World:
    estate, other = await two_estates(session)
    building = await make_building(session, estate=estate, number=8)
    units = [await make_unit(session, building=building, number=n, area=a)
             for n, a in (("101", "89.20"), ("102", "520.30"), ("201", "595.00"))]
    public = await make_unit(session, building=building, number="001", area="50.00", is_public=True)
    water = await make_fee_item(session, estate=estate, code="water", name="水费", kind=FeeKind.metered, price="3.20",
                                applies_to_all=False, unit_label="元/吨", effective_from=date(2026, 1, 1), due_day=20)
    shared = await make_fee_item(session, estate=estate, code="shared_water", name="公摊水费", kind=FeeKind.metered,
                                 price="3.20", applies_to_all=False, unit_label="元/吨", effective_from=date(2026, 1, 1),
                                 due_day=20)
    staff = [await make_staff(session, estates=[estate], roles=[r])
             for r in (Role.finance, Role.finance, Role.supervisor, Role.receptionist)]
    outsider = await make_staff(session, estates=[other], roles=[Role.finance])
    return World(estate, other, building, units, public, water, shared, *staff, outsider)


async def own_readings(session, w: World, used: list[str], period: str = "2026-11") -> None:
    """The units' own water meters for the period: used[i] tons on units[i]."""
    for unit, amount in zip(w.units, used, strict=False):
        session.add(MeterReading(estate_id=w.estate.id, unit_id=unit.id, fee_item_id=w.water.id, period=period,
                                 previous=Decimal("100.00"), current=Decimal("100.00") + Decimal(amount),
                                 read_at=datetime(2026, 11, 25, 2, tzinfo=UTC)))
    await session.commit()


def meter_body(w: World, **over) -> dict:
    return {"name": "8号楼总水表", "building_id": str(w.building.id), "fee_item_id": str(w.shared.id), "method": "area",
            "subtract_unit_meters": True, "unit_meter_item_id": str(w.water.id), **over}


async def make_meter(client, w: World, **over) -> dict:
    r = await client.post(f"{API}/estates/{w.estate.id}/shared-meters", json=meter_body(w, **over), headers=w.recorder.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def record(client, w: World, meter: dict, *, current="1250.00", previous="1000.00", period="2026-11", staff=None):
    body = {"period": period, "current": current, **({"previous": previous} if previous is not None else {})}
    return await client.post(f"{API}/shared-meters/{meter['id']}/readings", json=body,
                             headers=(staff or w.recorder).headers)
