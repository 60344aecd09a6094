"""Worlds for the office's printed paper: a dispatched order's task sheet, a cashier's day, owing units."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from app.domain.auth.roles import Role
from app.domain.fees.model import FeeItem, FeeKind
from app.domain.registry.model import Building, Company, Estate, Title, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item, make_late_fee_rule
from tests.helpers import cash, payments
from tests.helpers.dispatch import local, window
from tests.helpers.payments import keyed
from tests.registry_factories import make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

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
    number: str  # the work order's, QS-WX-2026-000123
    request_number: str


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
    order_id, number, request_number = r.json()["work_order_id"], r.json()["work_order_number"], r.json()["number"]
    r = await client.post(f"{API}/work-orders/{order_id}/dispatch", headers=desk.headers,
                          json=window(local(9), local(10), technician_id=str(tech.id)))
    assert r.status_code == 200, r.text
    return Repair(estate, other, unit, desk, tech, colleague, order_id, number, request_number)


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
    r = await client.post(f"{API}/receipts/{receipts[2]['id']}/void", json={"reason": "收错房号"}, headers=keyed(supervisor.headers))
    assert r.status_code == 200, r.text
    sid = (await cash.current(client, d))["id"]
    counted = Decimal("140.56") + 10 * extra_payments
    r = await cash.hand_over(client, sid, d.staff, counted_cash=str(counted), note="找零短款20元，已报主管")
    assert r.status_code == 200, r.text
    return Drawer(d, supervisor, finance, sid, [x["number"] for x in receipts], receipts[2]["number"])


# 10:00 on 3 December 2026 in Shanghai: the arrears tests' today.
ARREARS_NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


@dataclass
class Owing:
    estate: Estate
    other: Estate
    b8: Building
    wang: Unit  # 8-2-301 王建国: Sep and Oct management fees (late fee 0.05%/day), Nov water; Dec not yet due
    li: Unit  # 8-2-302 李梅: Oct management fee
    paid: Unit  # 8-2-303: paid in full
    far: Unit  # 9-1-101 赵强: Nov management fee
    desk: Staff
    item: FeeItem


async def owing(session, *, months_of_wang: int = 2) -> Owing:
    estate, other = await two_estates(session)
    await office(session, estate)
    b8 = await make_building(session, estate=estate, number=8, name="8号楼")
    b9 = await make_building(session, estate=estate, number=9, name="9号楼")
    wang, li, paid = [await make_unit(session, building=b8, entrance="2", number=n) for n in ("301", "302", "303")]
    far = await make_unit(session, building=b9, entrance="1", number="101")
    for name, unit in (("王建国", wang), ("李梅", li), ("孙丽", paid), ("赵强", far)):
        await make_owner(session, estate=estate, full_name=name, units=[unit])
    item = await make_fee_item(session, estate=estate, name="物业管理费")
    await make_late_fee_rule(session, items=[item], daily_rate="0.0005")
    water = await make_fee_item(session, estate=estate, name="水费", kind=FeeKind.metered, price="5.00")
    first = 11 - months_of_wang  # Sep and Oct by default; more months reach back years
    for k in range(months_of_wang):
        year, month = divmod(first + k - 1, 12)
        day = date(2026 + year, month + 1, 1)
        await make_charge(session, unit=wang, item=item, amount="223.00", period=f"{day:%Y-%m}", due_date=day)
    await make_charge(session, unit=wang, item=water, amount="30.00", period="2026-11", due_date=date(2026, 11, 1))
    await make_charge(session, unit=wang, item=item, amount="223.00", period="2026-12", due_date=date(2026, 12, 20))
    await make_charge(session, unit=li, item=item, amount="180.00", period="2026-10", due_date=date(2026, 10, 1), paid="80.00")
    await make_charge(session, unit=paid, item=item, amount="180.00", period="2026-10", due_date=date(2026, 10, 1), paid="180.00")
    await make_charge(session, unit=far, item=item, amount="150.00", period="2026-11", due_date=date(2026, 11, 1))
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="李娜")
    return Owing(estate, other, b8, wang, li, paid, far, desk, item)


async def day_of_repairs(client, session, *, more: int = 3) -> Repair:
    """Today's orders: the dispatched one of 王建国, and `more` registered and left for dispatch."""
    w = await dispatched(client, session)
    for n in range(more):
        await make_order(session, estate=w.estate, unit=w.unit, description=f"灯不亮第{n + 1}单")
    return w
