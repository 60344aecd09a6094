"""Waivers (减免) where the owner and finance read them: the bill, the receipt, the month-end report."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.domain.auth.roles import Role
from app.domain.fees.billing import rules as billing
from app.domain.fees.model import Charge, FeeItem
from app.domain.registry.model import Estate, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.pdf import text_of
from tests.registry_factories import make_building, make_unit, two_estates

API = "/api/v1"
D = Decimal
# 2026-11-20 12:00 in Shanghai: payments and approvals fall in November.
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to(NOW, tick=False)


@dataclass
class Books:
    estate: Estate
    item: FeeItem
    vacant: Unit  # 1-101, 89.20 m², vacant
    lived_in: Unit  # 1-102, 64.22 m²
    vacant_fee: Charge  # 2026-11: 2.50 × 89.20 = 223.00
    lived_in_fee: Charge  # 2026-11: 2.50 × 64.22 = 160.55
    desk: Staff
    supervisor: Staff
    finance: Staff
    finance2: Staff


async def books(session) -> Books:
    estate, _ = await two_estates(session)
    building = await make_building(session, estate=estate, number=1)
    vacant = await make_unit(session, building=building, number="101", area="89.20", is_vacant=True)
    lived_in = await make_unit(session, building=building, number="102", area="64.22")
    item = await make_fee_item(session, estate=estate, code="mgmt", price="2.50")
    charges = []
    for unit in (vacant, lived_in):
        basis = billing.compute(kind=item.kind, price=D("2.50"), area=unit.area)
        charges.append(await make_charge(session, unit=unit, item=item, amount=basis.amount, period="2026-11",
                                         due_date=date(2026, 11, 1), basis=basis.basis))
    staff = [await make_staff(session, estates=[estate], roles=[r]) for r in
             (Role.receptionist, Role.supervisor, Role.finance, Role.finance)]
    return Books(estate, item, vacant, lived_in, charges[0], charges[1], *staff)


async def vacant_rule_applied(client, b: Books) -> None:
    body = {"fee_item_id": str(b.item.id), "kind": "vacant_unit", "value": "50", "from_month": "2026-11", "reason": "空置房优惠"}
    rule = (await client.post(f"{API}/estates/{b.estate.id}/discount-rules", json=body, headers=b.finance.headers)).json()
    assert (await client.post(f"{API}/discount-rules/{rule['id']}/approve", headers=b.finance2.headers)).status_code == 200
    r = await client.post(f"{API}/discount-rules/{rule['id']}/apply", json={"month": "2026-11"}, headers=b.finance.headers)
    assert r.json()["total_waived"] == "111.50"


async def waive(client, b: Books, charge: Charge, value: str, reason: str) -> None:
    w = (await client.post(f"{API}/charges/{charge.id}/waivers", json={"kind": "amount", "value": value, "reason": reason},
                           headers=b.desk.headers)).json()
    assert (await client.post(f"{API}/waivers/{w['id']}/approve", headers=b.supervisor.headers)).status_code == 200


async def pay(client, b: Books, charge: Charge, amount: str) -> dict:
    r = await client.post(f"{API}/units/{charge.unit_id}/payments",
                          json={"amount": amount, "method": "cash", "charge_ids": [str(charge.id)]},
                          headers={**b.desk.headers, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()["receipt"]


async def test_the_bill_shows_each_waiver_with_its_reason(client, session):
    b = await books(session)
    await vacant_rule_applied(client, b)
    await waive(client, b, b.vacant_fee, "11.50", "维修延误补偿")
    r = await client.get(f"{API}/units/{b.vacant.id}/bill", headers=b.desk.headers)
    line = next(ln for ln in r.json()["lines"] if ln["charge_id"] == str(b.vacant_fee.id))
    # 223.00 × 50% = 111.50 (rule) + 11.50 = 123.00 waived; 223.00 - 123.00 = 100.00 owed.
    assert (line["amount"], line["waived"], line["paid"], line["outstanding"]) == ("223.00", "123.00", "0.00", "100.00")
    by_text = {w["text"]: w for w in line["waivers"]}
    assert sorted(by_text) == ["减免 11.50元（维修延误补偿）", "减免 111.50元（空置房优惠）"]
    assert by_text["减免 111.50元（空置房优惠）"]["rule_id"] is not None
    assert by_text["减免 11.50元（维修延误补偿）"]["rule_id"] is None
    totals = r.json()["totals"]
    assert (totals["billed"], totals["waived"], totals["outstanding"]) == ("223.00", "123.00", "100.00")


async def test_the_receipt_says_billed_waived_and_taken(client, session):
    b = await books(session)
    await vacant_rule_applied(client, b)
    receipt = await pay(client, b, b.vacant_fee, "111.50")
    part = receipt["allocations"][0]
    assert (part["billed"], part["waived"], part["amount"]) == ("223.00", "111.50", "111.50")
    again = (await client.get(f"{API}/receipts/{receipt['id']}", headers=b.desk.headers)).json()["allocations"][0]
    assert (again["billed"], again["waived"], again["amount"]) == ("223.00", "111.50", "111.50")
    pdf = (await client.get(f"{API}/receipts/{receipt['id']}/pdf", headers=b.desk.headers)).content
    # The pricing cell wraps around the row's other cells: 「…89.20㎡（应收223.00减免 / 111.50实收111.50）」.
    text = text_of(pdf)
    assert "（应收223.00减免" in text and "111.50实收111.50）" in text


async def test_the_month_report_counts_waived_and_rates_on_the_rest(client, session):
    b = await books(session)
    await vacant_rule_applied(client, b)
    await pay(client, b, b.vacant_fee, "111.50")
    r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end", params={"month": "2026-11"},
                         headers=b.desk.headers)
    assert r.status_code == 200, r.text
    item = next(i for i in r.json()["by_fee_item"] if i["code"] == "mgmt")
    # billed 223.00 + 160.55 = 383.55; waived 111.50; to collect 383.55 - 111.50 = 272.05;
    # collected 111.50; outstanding 272.05 - 111.50 = 160.55; rate 111.50 / 272.05 = 0.40985... -> 0.4099.
    got = [item[k] for k in ("billed", "waived", "collected_for_month", "outstanding", "collection_rate")]
    assert got == ["383.55", "111.50", "111.50", "160.55", "0.4099"]
    # The vacant unit paid what was left: in full; the other paid nothing.
    assert (item["households_paid_in_full"], item["households_partly_paid"], item["households_unpaid"]) == (1, 0, 1)
    totals = r.json()["totals"]
    assert (totals["waived"], totals["collection_rate"]) == ("111.50", "0.4099")
    csv = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end", params={"month": "2026-11", "format": "csv"},
                           headers=b.desk.headers)
    text = csv.content.decode("utf-8-sig")
    assert "本月减免" in text and "减免后应收" in text and "111.50" in text and "272.05" in text
