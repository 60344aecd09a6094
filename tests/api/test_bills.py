"""GET /api/v1/units/{unit_id}/bill: the bill read out line by line to a doubting owner (§7.3.13)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.domain.auth.principal import system_actor
from app.domain.auth.roles import Role
from app.domain.fees.billing import charges
from app.domain.fees.billing import rules as billing
from app.domain.fees.model import Charge, ChargeSource, FeeKind
from app.domain.registry.model import Estate, Script, Unit
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.vouchers.model import Voucher
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item, make_late_fee_rule
from tests.helpers.payments import keyed
from tests.helpers.problems import assert_422
from tests.registry_factories import make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
D = Decimal
# 2026-11-20 12:00 in Shanghai: every late fee below is counted to this day.
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(NOW, tick=False)


@dataclass
class Bill:
    estate: Estate
    other: Estate
    unit: Unit
    old_fee: Charge
    october: Charge
    water: Charge
    repair: Charge
    order_id: uuid.UUID
    desk: Staff


async def _repair_charge(session, *, estate: Estate, unit: Unit) -> tuple[Charge, uuid.UUID]:
    tech = await make_staff(session, estates=[estate], roles=[Role.technician])
    order = await make_order(session, estate=estate, unit=unit, technician=tech.user, status=WorkOrderStatus.completed)
    voucher = Voucher(estate_id=estate.id, work_order_id=order.id, technician_id=tech.user.id, work_done="更换水龙头阀芯",
                      chargeable=True, amount=D("150.00"), posted_at=datetime(2026, 11, 5, 2, 0, tzinfo=UTC))
    session.add(voucher)
    await session.flush()
    charge = await charges.charge_for_voucher(session, actor=system_actor(), voucher=voucher)
    await session.commit()
    return charge, order.id


async def bill(session) -> Bill:
    """8-2-301 (89.20 m²): management fee 2.50/m² with 0.05%/day after 10 days' grace, capped at 5%;
    water 3.20 per ton; a 150.00 repair. One fee a year old (capped late fee), October's fee, October's
    water, November's repair, and a fee of 2025-06 paid long ago (outside the default window)."""
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2",
                           number="301", area="89.20")
    fee = await make_fee_item(session, estate=estate, price="2.50")
    await make_late_fee_rule(session, items=[fee], daily_rate="0.0005", grace_days=10, cap_share="0.05")
    water = await make_fee_item(session, estate=estate, kind=FeeKind.metered, name="水费", price="3.20", due_day=15)
    by_area = billing.compute(kind=FeeKind.per_area, price=D("2.50"), area=D("89.20")).basis
    old = await make_charge(session, unit=unit, item=fee, amount="223.00", period="2025-11", due_date=date(2025, 11, 1), basis=by_area)
    await make_charge(session, unit=unit, item=fee, amount="223.00", period="2025-06", due_date=date(2025, 6, 1),
                      basis=by_area, paid="223.00")
    october = await make_charge(session, unit=unit, item=fee, amount="223.00", period="2026-10", due_date=date(2026, 10, 1),
                                basis=by_area)
    reading = billing.metered(price=D("3.20"), previous=D("1203"), current=D("1228"))
    used = await make_charge(session, unit=unit, item=water, amount=reading.amount, period="2026-10", due_date=date(2026, 10, 15),
                             basis=reading.basis, source=ChargeSource.meter)
    repair, order_id = await _repair_charge(session, estate=estate, unit=unit)
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    return Bill(estate=estate, other=other, unit=unit, old_fee=old, october=october, water=used, repair=repair,
                order_id=order_id, desk=desk)


async def pay(client, b: Bill, charge: Charge, amount: str) -> dict:
    r = await client.post(f"{API}/units/{b.unit.id}/payments", json={"amount": amount, "method": "cash", "charge_ids": [str(charge.id)]},
                          headers=keyed(b.desk.headers))
    assert r.status_code == 201, r.text
    return r.json()["receipt"]


async def get_bill(client, b: Bill, staff: Staff | None = None, **params):
    return await client.get(f"{API}/units/{b.unit.id}/bill", params=params, headers=(staff or b.desk).headers)


class TestBillPermissions:
    async def test_anonymous_401(self, client, session):
        b = await bill(session)
        assert (await client.get(f"{API}/units/{b.unit.id}/bill")).status_code == 401

    @pytest.mark.parametrize("role", [Role.technician, Role.agency, Role.records_clerk])
    async def test_roles_without_fees_403(self, client, session, role):
        b = await bill(session)
        staff = await make_staff(session, estates=[b.estate], roles=[role])
        r = await get_bill(client, b, staff)
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")

    async def test_other_estate_404(self, client, session):
        b = await bill(session)
        stranger = await make_staff(session, estates=[b.other], roles=[Role.finance])
        r = await get_bill(client, b, stranger)
        # The amount, not a bare "223": the problem's instance carries a random
        # UUID, which held "223" one run in a few hundred.
        assert r.status_code == 404 and "223.00" not in r.text

    async def test_finance_and_manager_read(self, client, session):
        b = await bill(session)
        for role in (Role.finance, Role.manager, Role.night_duty):
            assert (await get_bill(client, b, await make_staff(session, estates=[b.estate], roles=[role]))).status_code == 200


class TestBadInput:
    @pytest.mark.parametrize("params", [{"from": "2026-13"}, {"to": "2026-1"}, {"from": "26-01"}, {"from": "2026-00"},
                                        {"to": "2026-01\x00"}, {"from": "0000-00"}])
    async def test_bad_month_422(self, client, session, params):
        b = await bill(session)
        r = await get_bill(client, b, **params)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert_422(r, next(iter(params)))

    async def test_from_after_to_422(self, client, session):
        b = await bill(session)
        r = await get_bill(client, b, **{"from": "2026-11", "to": "2026-01"})
        assert r.status_code == 422 and r.json()["type"] == "/problems/months-out-of-order"

    async def test_unknown_unit_404_and_bad_id_422(self, client, session):
        b = await bill(session)
        assert (await client.get(f"{API}/units/{uuid.uuid4()}/bill", headers=b.desk.headers)).status_code == 404
        assert_422(await client.get(f"{API}/units/not-a-unit/bill", headers=b.desk.headers), "unit_id")

    async def test_year_zero_is_just_an_empty_range(self, client, session):
        b = await bill(session)
        r = await get_bill(client, b, **{"from": "0000-01", "to": "0000-12"})
        assert r.status_code == 200 and r.json()["lines"] == []


class TestHandCheckedBill:
    async def test_every_line_to_the_cent(self, client, session):
        b = await bill(session)
        await pay(client, b, b.october, "100.00")
        voided = await pay(client, b, b.water, "80.00")
        supervisor = await make_staff(session, estates=[b.estate], roles=[Role.supervisor])
        r = await client.post(f"{API}/receipts/{voided['id']}/void", json={"reason": "收错户"}, headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text

        r = await get_bill(client, b)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["unit_label"], body["as_of"], body["from_month"], body["to_month"]) == ("8号楼2单元301", "2026-11-20", None, None)
        # Oldest due first; 2025-06 (paid, >12 months) left out; October's late fee, posted when it was paid in part.
        old, october, water, repair, october_late = body["lines"]

        assert old["explanation"] == "物业管理费 2.50元/㎡·月 × 89.20㎡ × 1个月 = 223.00元"
        assert (old["period"], old["outstanding"], old["balance"]) == ("2025-11", "223.00", "234.15")
        # 2025-11-11 (after 10 days' grace) to 2026-11-20 is 374 days: 223.00 × 0.0005 × 374 = 41.70, capped at 5% = 11.15.
        assert {k: old["late_fee"][k] for k in ("amount", "days_past_due", "days_charged", "cap", "capped")} == {
            "amount": "11.15", "days_past_due": 384, "days_charged": 374, "cap": "11.15", "capped": True}
        assert old["late_fee"]["explanation"] == "滞纳金 未缴223.00元 × 0.05%/天 × 374天（宽限10天之后起算） = 41.70元，封顶5% = 11.15元"

        # October, paid 100.00 today: the payment posted 223.00 × 0.0005 × 40 days (10-11 to 11-20) = 4.46 first,
        # as a line of its own the 100.00 did not reach. Today it accrues 123.00 × 0.0005 × 40 = 2.46 < 4.46 posted:
        # nothing more would be posted today.
        assert (october["amount"], october["paid"], october["outstanding"]) == ("223.00", "100.00", "123.00")
        assert (october["late_fee"]["amount"], october["late_fee"]["posted"], october["balance"]) == ("0.00", "4.46", "123.00")
        assert (october_late["source"], october_late["period"], october_late["due_date"]) == ("late_fee", None, "2026-11-20")
        assert (october_late["amount"], october_late["outstanding"], october_late["late_fee"]["amount"]) == ("4.46", "4.46", "0.00")
        assert october_late["explanation"] == (
            "2026-10物业管理费滞纳金 4.46元：滞纳金 未缴223.00元 × 0.05%/天 × 40天（宽限10天之后起算） = 4.46元")
        [payment] = october["payments"]
        assert (payment["amount"], payment["voided"], payment["method"]) == ("100.00", False, "cash")
        assert payment["receipt_number"].startswith(f"{b.estate.code}-")
        assert october["computation"] == {**october["computation"], "method": "per_area", "rate": "2.50", "area": "89.20",
                                          "months": 1, "amount": "223.00"}

        assert water["explanation"] == "水费 上次读数 1203 → 本次 1228，用量 25 × 3.20元 = 80.00元"
        assert (water["paid"], water["outstanding"], water["late_fee"]["amount"], water["balance"]) == ("0.00", "80.00", "0.00", "80.00")
        [gone] = water["payments"]
        assert (gone["receipt_number"], gone["amount"], gone["voided"]) == (voided["number"], "80.00", True)
        assert gone["voided_at"] is not None

        number = (await session.get(WorkOrder, b.order_id)).number
        assert repair["explanation"] == f"维修费 150.00元：维修工单 {number} 有偿维修（2026-11-05，更换水龙头阀芯）"
        assert (repair["period"], repair["due_date"], repair["source"]) == (None, "2026-11-05", "voucher")
        assert (repair["computation"]["work_order_id"], repair["computation"]["work_order_number"]) == (str(b.order_id), number)

        # 676.00 + 4.46 posted = 680.46 billed; 580.46 outstanding; 11.15 (the old fee's) would be posted today.
        assert body["totals"] == {"billed": "680.46", "paid": "100.00", "waived": "0.00", "late_fees": "11.15",
                                  "outstanding": "580.46", "credit": "0.00", "account_outstanding": "580.46",
                                  "account_late_fees": "11.15", "balance_due": "591.61"}

    async def test_read_out_in_the_estates_characters(self, client, session):
        b = await bill(session)
        b.estate.script = Script.traditional
        session.add(b.estate)
        await session.commit()
        body = (await get_bill(client, b)).json()
        old, _, water, _ = body["lines"]
        assert body["unit_label"] == "8號樓2單元301"
        assert old["explanation"] == "物業管理費 2.50元/㎡·月 × 89.20㎡ × 1個月 = 223.00元"
        assert old["late_fee"]["explanation"] == "滯納金 未繳223.00元 × 0.05%/天 × 374天（寬限10天之後起算） = 41.70元，封頂5% = 11.15元"
        assert water["explanation"] == "水費 上次讀數 1203 → 本次 1228，用量 25 × 3.20元 = 80.00元"

    async def test_from_to_limits_the_lines_not_the_balance_due(self, client, session):
        b = await bill(session)
        body = (await get_bill(client, b, **{"from": "2025-06", "to": "2025-12"})).json()
        assert [(ln["period"], ln["paid"]) for ln in body["lines"]] == [("2025-06", "223.00"), ("2025-11", "0.00")]
        totals = body["totals"]
        assert (totals["billed"], totals["paid"], totals["outstanding"], totals["late_fees"]) == ("446.00", "223.00", "223.00", "11.15")
        # October's fee and water and the repair are outside the months asked for, but still owed.
        assert (totals["account_outstanding"], totals["balance_due"]) == ("676.00", "691.61")

    async def test_a_one_off_belongs_to_the_month_it_fell_due(self, client, session):
        b = await bill(session)
        body = (await get_bill(client, b, **{"from": "2026-11"})).json()
        assert [ln["source"] for ln in body["lines"]] == ["voucher"]

    async def test_credit_on_account_lowers_the_balance_due(self, client, session):
        b = await bill(session)
        await pay(client, b, b.repair, "150.00")
        r = await client.post(f"{API}/units/{b.unit.id}/payments", json={"amount": "1000.00", "method": "cash", "settle": "oldest_first"},
                              headers=keyed(b.desk.headers))
        assert r.status_code == 201
        totals = (await get_bill(client, b)).json()["totals"]
        # 676.00 owed; with the repair paid, 1000.00 first posts the late fees (old fee 11.15 capped, October
        # 223.00 × 0.0005 × 40 = 4.46), settles 526.00 + 15.61 = 541.61 and keeps 458.39 on account.
        assert (totals["account_outstanding"], totals["credit"], totals["balance_due"]) == ("0.00", "458.39", "0.00")

    async def test_a_unit_with_nothing_billed(self, client, session):
        b = await bill(session)
        empty = await make_unit(session, building=await make_building(session, estate=b.estate))
        r = await client.get(f"{API}/units/{empty.id}/bill", headers=b.desk.headers)
        assert r.status_code == 200
        assert r.json()["lines"] == [] and r.json()["totals"]["balance_due"] == "0.00"

    async def test_an_unreadable_basis_is_still_explained(self, client, session):
        b = await bill(session)
        item = await make_fee_item(session, estate=b.estate, name="垃圾清运费", kind=FeeKind.fixed)
        await make_charge(session, unit=b.unit, item=item, amount="15.00", period="2026-11", due_date=date(2026, 11, 1), basis={})
        lines = (await get_bill(client, b, **{"from": "2026-11", "to": "2026-11"})).json()["lines"]
        odd = next(ln for ln in lines if ln["fee_item_name"] == "垃圾清运费")
        assert odd["computation"]["method"] is None and odd["explanation"] == "2026-11垃圾清运费 15.00元"
