"""A completed work order waiting for its voucher, posting vouchers over HTTP, and what they stored."""
from __future__ import annotations

import json
from dataclasses import dataclass

from app.domain.auth.roles import Role
from app.domain.callbacks.model import Callback
from app.domain.registry.model import Building, Estate, Unit
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.vouchers.model import Voucher, VoucherFile, VoucherMaterial
from tests.factories import Staff, make_staff
from tests.images import JPEG
from tests.registry_factories import count_rows, make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"

S = WorkOrderStatus

PDF = b"%PDF-1.4\n" + b"%" * 100


@dataclass
class Scene:
    estate: Estate
    other: Estate
    building: Building
    unit: Unit
    tech: Staff
    desk: Staff


async def scene(session) -> Scene:
    estate, other = await two_estates(session)
    building = await make_building(session, estate=estate, number=8)
    unit = await make_unit(session, building=building, entrance="2", number="301")
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    return Scene(estate, other, building, unit, tech, desk)


def body(**kw) -> dict:
    return {"work_done": "更換水龍頭閥芯", "materials": [{"item": "閥芯", "quantity": "1", "unit": "個"}],
            "minutes_spent": 40, "chargeable": False, "amount": "0", **kw}


async def post(client, order, staff, data: dict | str, files=None):
    raw = data if isinstance(data, str) else json.dumps(data)
    # Without files the form goes urlencoded: a dummy file part would be an undeclared part (422).
    return await client.post(f"{API}/work-orders/{order.id}/voucher", data={"voucher": raw}, files=files or None,
                             headers=staff.headers)


def stored_files(settings) -> list:
    return sorted(p for p in settings.upload_dir.rglob("*") if p.is_file()) if settings.upload_dir.exists() else []


async def nothing_written(session, order_id, settings, *, status: S) -> None:
    session.expire_all()
    assert await count_rows(session, Voucher) == 0
    assert await count_rows(session, VoucherMaterial) == 0
    assert await count_rows(session, VoucherFile) == 0
    assert await count_rows(session, Callback) == 0
    assert (await session.get(WorkOrder, order_id)).status == status
    assert stored_files(settings) == []


async def issue_code(client, order, staff) -> str:
    """The desk issues the owner's one-time code; the answer is the one time it is shown."""
    r = await client.post(f"{API}/work-orders/{order.id}/owner-code", headers=staff.headers)
    assert r.status_code == 201, r.text
    return r.json()["code"]


async def posted(client, session, sc: Scene, **kw):
    """An order completed through the API, with a photo; returns (order, voucher json)."""
    order = await make_order(session, estate=sc.estate, unit=kw.pop("unit", sc.unit), technician=kw.pop("tech", sc.tech).user,
                             status=S.in_progress, is_public_area=kw.pop("public", None))
    tech = kw.pop("as_tech", sc.tech)
    code = await issue_code(client, order, sc.desk)
    r = await post(client, order, tech, body(owner_confirmation={"name": "王建國", "code": code}, **kw), {"photos": ("a.jpg", JPEG)})
    assert r.status_code == 201, r.text
    return order, r.json()
