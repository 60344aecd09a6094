"""Worlds for the office's printed paper: a dispatched order's task sheet, a cashier's day, owing units."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from app.domain.auth.roles import Role
from app.domain.registry.model import Company, Estate, Title, Unit
from tests.factories import Staff, make_staff
from tests.helpers import cash, payments
from tests.helpers.dispatch import local, window
from tests.registry_factories import make_building, make_owner, make_unit, two_estates

API = "/api/v1"
LEGAL_NAME = "新乡市祥瑞物业服务有限公司"
OFFICE_PHONE = "0373-5551234"
OFFICE_ADDRESS = "河南省新乡市平原路88号"


async def office(session, estate: Estate) -> None:
    """The company details every letterhead prints (the go-live settings)."""
    company = await session.get(Company, estate.company_id)
    company.legal_name, company.phone, company.address = LEGAL_NAME, OFFICE_PHONE, OFFICE_ADDRESS
    session.add(company)
    await session.commit()


@dataclass
class Repair:
    estate: Estate
    other: Estate
    unit: Unit
    desk: Staff
    tech: Staff
    colleague: Staff  # another technician of the estate
    order_id: str


async def dispatched(client, session, *, description: str = "厨房水龙头漏水，关不紧") -> Repair:
    """8号楼2单元301 of 王建国 (138 0013 8000): his call registered and dispatched to 张师傅 tomorrow 9-10."""
    estate, other = await two_estates(session)
    await office(session, estate)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8, name="8号楼"),
                           entrance="2", number="301")
    await make_owner(session, estate=estate, full_name="王建国", title=Title.mr, phones=["138 0013 8000"], units=[unit])
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="李娜")
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="张师傅")
    colleague = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="刘师傅")
    body = {"channel": "phone", "category": "plumbing", "urgency": "urgent", "description": description,
            "unit_id": str(unit.id), "contact_name": "王建国", "contact_phone": "138 0013 8000"}
    r = await client.post(f"{API}/estates/{estate.id}/service-requests", json=body, headers=desk.headers)
    assert r.status_code == 201, r.text
    order_id = r.json()["work_order_id"]
    r = await client.post(f"{API}/work-orders/{order_id}/dispatch", headers=desk.headers,
                          json=window(local(9), local(10), technician_id=str(tech.id)))
    assert r.status_code == 200, r.text
    return Repair(estate, other, unit, desk, tech, colleague, order_id)


def short(order_id: str) -> str:
    """The number the paper prints for an order until orders carry their own."""
    return uuid.UUID(order_id).hex[:8].upper()


@dataclass
class Drawer:
    desk: payments.Desk
    supervisor: Staff
    finance: Staff
    session_id: str
    numbers: list[str]  # the receipts' numbers, in the order taken
    voided: str  # the number voided before the hand-over


async def cashier_day(client, session, *, extra_payments: int = 0) -> Drawer:
    """李娜's drawer of today: 160.56 cash (200 tendered), 45.00 wechat, 80.00 cash voided before the
    hand-over, `extra_payments` more of 10.00 cash; handed over 20.00 short with a note."""
    d = await payments.desk(session)
    await office(session, d.estate)
    supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="周主管")
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance], full_name="赵会计")
    taken = [await payments.pay(client, d, amount="160.56", tendered="200"),
             await payments.pay(client, d, amount="45.00", method="wechat", reference="WX0001"),
             await payments.pay(client, d, amount="80.00")]
    taken += [await payments.pay(client, d, amount="10.00") for _ in range(extra_payments)]
    assert all(r.status_code == 201 for r in taken), [r.text for r in taken]
    receipts = [r.json()["receipt"] for r in taken]
    r = await client.post(f"{API}/receipts/{receipts[2]['id']}/void", json={"reason": "收错房号"}, headers=supervisor.headers)
    assert r.status_code == 200, r.text
    sid = (await cash.current(client, d))["id"]
    counted = Decimal("140.56") + 10 * extra_payments
    r = await cash.hand_over(client, sid, d.staff, counted_cash=str(counted), note="找零短款20元，已报主管")
    assert r.status_code == 200, r.text
    return Drawer(d, supervisor, finance, sid, [x["number"] for x in receipts], receipts[2]["number"])
