"""An estate with an owner and a letting agency, and entrusting a flat to let over HTTP."""
from __future__ import annotations

from dataclasses import dataclass

from app.domain.auth.roles import Role
from app.domain.registry.model import Estate, Owner, Unit
from tests.factories import Staff, make_staff
from tests.registry_factories import make_building, make_owner, make_unit, two_estates

API = "/api/v1"


@dataclass
class World:
    estate: Estate
    other: Estate
    unit: Unit
    owner: Owner
    agency: Staff
    tech: Staff


async def world(session) -> World:
    estate, other = await two_estates(session)
    building = await make_building(session, estate=estate, number=8)
    unit = await make_unit(session, building=building, entrance="2", number="301")
    owner = await make_owner(session, estate=estate, full_name="王建國", phones=["138 0013 8000"], units=[unit])
    return World(estate, other, unit, owner, await make_staff(session, estates=[estate], roles=[Role.agency]),
                 await make_staff(session, estates=[estate], roles=[Role.technician]))


def payload(w: World, **over) -> dict:
    return {"unit_id": str(w.unit.id), "owner_id": str(w.owner.id), "asking_rent": "3200.00", "bedrooms": 3, "living_rooms": 2,
            "bathrooms": 1, "furnishing": "full", "available_from": "2026-06-01", "contact_phone": "+86 139-0000-1111",
            "contact_preference": "wechat", "contact_note": "工作日晚上", "description": "南北通透", **over}


async def create(client, w: World, **over):
    return await client.post(f"{API}/estates/{w.estate.id}/rental-entrustments", json=payload(w, **over), headers=w.agency.headers)
