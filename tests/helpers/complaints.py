"""An estate with owners to complain, and registering complaints over HTTP."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.auth.roles import Role
from app.domain.complaints.model import Complaint, ComplaintStatus, ComplaintStep, Severity, StepKind
from app.domain.registry.model import Estate, Owner, Unit
from tests.factories import Staff, make_staff
from tests.registry_factories import make_building, make_owner, make_unit, two_estates

API = "/api/v1"

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class World:
    estate: Estate
    other: Estate
    unit: Unit
    owner: Owner
    desk: Staff
    director: Staff
    handler: Staff


async def world(session) -> World:
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2", number="301")
    owner = await make_owner(session, estate=estate, full_name="王建國", units=[unit])
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    director = await make_staff(session, estates=[estate], roles=[Role.cs_director], full_name="趙主任")
    handler = await make_staff(session, estates=[estate], roles=[Role.manager], full_name="陳管理員")
    return World(estate, other, unit, owner, desk, director, handler)


def body(w: World, **over: Any) -> dict[str, Any]:
    return {"owner_id": str(w.owner.id), "unit_id": str(w.unit.id), "channel": "phone", "category": "noise",
            "severity": "normal", "description": "樓上每晚十二點後還在裝修", **over}


async def register(client, w: World, **over: Any) -> dict[str, Any]:
    r = await client.post(f"{API}/estates/{w.estate.id}/complaints", json=body(w, **over), headers=w.desk.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def post(client, cid: str, verb: str, json: dict, who: Staff, expect: int = 200) -> dict[str, Any]:
    r = await client.post(f"{API}/complaints/{cid}/{verb}", json=json, headers=who.headers)
    assert r.status_code == expect, r.text
    return r.json()

S = ComplaintStatus

_n = itertools.count(1)


async def seed(session, estate_id, *, category: str, status: S, received: datetime, deadline: datetime,
               severity: Severity = Severity.normal, resolved: datetime | None = None, answers: tuple[bool, ...] = ()) -> Complaint:
    c = Complaint(estate_id=estate_id, number=f"TS-2026-9{next(_n):03d}", channel="phone", category=category, severity=severity,
                  description="x", received_at=received, deadline=deadline, status=status, resolved_at=resolved)
    session.add(c)
    await session.flush()
    session.add_all([ComplaintStep(estate_id=estate_id, complaint_id=c.id, kind=StepKind.feedback, note="", satisfied=yes,
                                   done_at=received + timedelta(days=i + 1)) for i, yes in enumerate(answers)])
    await session.commit()
    return c
