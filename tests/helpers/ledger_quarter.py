"""One estate's first quarter of 2027, driven over HTTP and the job runner day by day, for the
hand-checked ledger test (tests/api/test_ledger_quarter.py, where every figure is worked out).

Units of 1号楼 (物业管理费 2.50元/㎡·月, due on the 10th; 0.05%/day after 10 days' grace, at most 5%):
  A 101  89.20 m², a 600.00 deposit (100.00 earmarked for 水费), paid by deductions; moves out 2027-02-17
  B 102  96.50 m², pays January late (late fee in the payment), February's late fee waived
  C 201 120.00 m², vacant: the 50% vacant-unit discount rule
  D 202  75.35 m², moves in 2027-01-15 after January was billed and paid in full: the paid charge's
         cancel approved (its money to D's account), the 17/31 rebilled and settled from it
February's water: the units' own meters and the building's shared meter, split by area.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from app.domain.auth.model import AuthToken
from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, ChargeSource, ChargeState, FeeItem, FeeKind
from app.domain.registry.model import Estate, Unit
from app.jobs.runner import run_job
from tests.factories import Staff, make_staff
from tests.fees_factories import make_fee_item, make_late_fee_rule
from tests.registry_factories import make_building, make_unit, two_estates

API = "/api/v1"
TZ = ZoneInfo("Asia/Shanghai")
MONTHS = ("2027-01", "2027-02", "2027-03")
# The Saturday-to-Friday registers of the quarter, by the ISO week of their Friday:
# 2026-W53 ends Friday 1 January, 2027-W13 ends Friday 2 April.
WEEKS = ("2026-W53", *(f"2027-W{n:02d}" for n in range(1, 14)))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


@dataclass
class Quarter:
    app: Any
    client: Any
    session: Any
    clock: Any  # the time_machine fixture
    estate: Estate
    units: dict[str, Unit]
    items: dict[str, FeeItem]
    desk: Staff  # receptionist: takes money, reads meters, posts late fees, asks for waivers
    supervisor: Staff  # voids receipts, approves waivers
    finance: Staff  # bills, corrects, records the shared meter, asks for the discount rule
    finance2: Staff  # approves what finance asked for
    receipts: dict[str, str] = field(default_factory=dict)  # name -> receipt id
    meter: dict = field(default_factory=dict)  # 1号楼总水表
    split: dict = field(default_factory=dict)  # its February split

    def at(self, *when: int) -> datetime:
        moment = local(*when)
        self.clock.move_to(moment, tick=True)
        return moment

    async def post(self, staff: Staff, url: str, body: dict | None = None, status: int = 200) -> dict:
        headers = {**staff.headers, "Idempotency-Key": str(uuid.uuid4())}
        r = await self.client.post(f"{API}{url}", json=body, headers=headers)
        assert r.status_code == status, r.text
        return r.json()

    async def get(self, url: str, **params: str) -> dict:
        r = await self.client.get(f"{API}{url}", params=params, headers=self.finance.headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def charge(self, unit: str, item: str, period: str | None = None, *, late_fee_of: str | None = None) -> Charge:
        """The unit's open charge of the item for the month; or the late fee posted on such a charge."""
        if late_fee_of is not None:
            of = await self.charge(unit, item, late_fee_of)
            where = [Charge.late_fee_of == of.id]
        else:
            where = [Charge.unit_id == self.units[unit].id, Charge.fee_item_id == self.items[item].id,
                     Charge.period == period, Charge.source != ChargeSource.late_fee.value,
                     Charge.state == ChargeState.open.value]
        stmt = select(Charge).where(*where).execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one()

    async def pay(self, name: str, unit: str, amount: str, *charges: Charge) -> dict:
        body = {"amount": amount, "method": "cash", "charge_ids": [str(c.id) for c in charges]}
        paid = await self.post(self.desk, f"/units/{self.units[unit].id}/payments", body, status=201)
        self.receipts[name] = paid["receipt"]["id"]
        return paid

    async def bill_month(self, month: str) -> None:
        """06:00 on the 1st: the billing run (it applies the discount rule and deducts from accounts)."""
        year, mon = (int(x) for x in month.split("-"))
        self.at(year, mon, 1, 6, 0)
        await self.post(self.finance, f"/estates/{self.estate.id}/billing-runs", {"month": month})

    async def job(self, name: str, *when: int) -> dict:
        [result] = await run_job(self.app.state.sessionmaker, name, estate_id=self.estate.id, force=True, now=self.at(*when))
        assert result.status == "succeeded", result
        return result.summary


async def _office(app, client, session, clock) -> Quarter:
    clock.move_to(local(2026, 12, 20, 10), tick=True)
    estate, _ = await two_estates(session)
    estate.code = f"QS{uuid.uuid4().hex[:4]}"
    session.add(estate)
    await session.commit()
    b = await make_building(session, estate=estate, number=1)
    units = {"A": await make_unit(session, building=b, number="101", area="89.20"),
             "B": await make_unit(session, building=b, number="102", area="96.50"),
             "C": await make_unit(session, building=b, number="201", area="120.00", is_vacant=True),
             "D": await make_unit(session, building=b, number="202", area="75.35")}
    water = dict(kind=FeeKind.metered, price="3.50", applies_to_all=False, unit_label="元/吨", due_day=25)
    items = {"mgmt": await make_fee_item(session, estate=estate, code="mgmt", price="2.50", due_day=10, unit_label="元/㎡·月"),
             "water": await make_fee_item(session, estate=estate, code="water", name="水费", **water),
             "shared": await make_fee_item(session, estate=estate, code="shared_water", name="公摊水费", **water)}
    await make_late_fee_rule(session, items=[items["mgmt"]], daily_rate="0.0005", grace_days=10, cap_share="0.05",
                             effective_from=date(2026, 1, 1))
    staff = [await make_staff(session, estates=[estate], roles=[r], full_name=n) for r, n in (
        (Role.receptionist, "李娜"), (Role.supervisor, "張主管"), (Role.finance, "赵会计"), (Role.finance, "陳會計"))]
    # The tokens are an hour long; this office works a quarter on them.
    await session.execute(update(AuthToken).where(AuthToken.user_id.in_([s.id for s in staff]))
                          .values(expires_at=local(2027, 12, 31)))
    await session.commit()
    return Quarter(app, client, session, clock, estate, units, items, *staff)


async def _before_the_quarter(q: Quarter) -> None:
    """The vacant-unit rule (asked by finance, approved by another), A's move-out, the shared meter."""
    rule = await q.post(q.finance, f"/estates/{q.estate.id}/discount-rules", {
        "fee_item_id": str(q.items["mgmt"].id), "kind": "vacant_unit", "value": "50", "from_month": "2027-01",
        "reason": "空置房物业费五折"}, status=201)
    await q.post(q.finance2, f"/discount-rules/{rule['id']}/approve")
    r = await q.client.put(f"{API}/units/{q.units['A'].id}/billing-period", json={"billed_to": "2027-02-17"},
                           headers=q.finance.headers)
    assert r.status_code == 200, r.text
    q.meter = await q.post(q.finance, f"/estates/{q.estate.id}/shared-meters", {
        "name": "1号楼总水表", "building_id": str(q.units["A"].building_id), "fee_item_id": str(q.items["shared"].id),
        "method": "area", "subtract_unit_meters": True, "unit_meter_item_id": str(q.items["water"].id)}, status=201)


async def _january(q: Quarter) -> None:
    await q.bill_month("2027-01")
    q.at(2027, 1, 4, 10)
    dep = await q.post(q.desk, f"/units/{q.units['A'].id}/deposits", {
        "amount": "600.00", "method": "cash", "earmarks": [{"fee_item_id": str(q.items["water"].id), "amount": "100.00"}]},
        status=201)
    q.receipts["A-deposit"] = dep["receipt"]["id"]
    await q.job("account_deduction", 2027, 1, 5, 6, 30)
    q.at(2027, 1, 5, 10)
    await q.pay("C-jan", "C", "150.00", await q.charge("C", "mgmt", "2027-01"))
    q.at(2027, 1, 15, 10)
    wrong = await q.charge("D", "mgmt", "2027-01")
    await q.pay("D-jan", "D", "188.38", wrong)
    # Three days later the office learns D moved in on the 15th. The paid charge's cancel is asked
    # for (202) and approved by another person: its 188.38 moves to D's account, the receipt stays
    # valid; the rebilled 17/31 is settled from that money by the next morning's deduction.
    q.at(2027, 1, 18, 10)
    r = await q.client.put(f"{API}/units/{q.units['D'].id}/billing-period", json={"billed_from": "2027-01-15"},
                           headers=q.finance.headers)
    assert r.status_code == 200, r.text
    asked = await q.post(q.finance, f"/charges/{wrong.id}/cancel", {"reason": "1月15日入住，应按天计费"}, status=202)
    await q.post(q.supervisor, f"/charge-cancellations/{asked['id']}/approve", {"reason": "核对入住单无误"})
    await q.post(q.finance, f"/charges/{wrong.id}/rebill", {}, status=201)
    await q.job("account_deduction", 2027, 1, 19, 6, 30)

async def _february(q: Quarter) -> None:
    await q.bill_month("2027-02")
    q.at(2027, 2, 5, 10)
    await q.pay("B-jan-late", "B", "243.18", await q.charge("B", "mgmt", "2027-01"))
    await q.pay("C-feb", "C", "150.00", await q.charge("C", "mgmt", "2027-02"))
    await q.pay("D-feb", "D", "103.30", await q.charge("D", "mgmt", "2027-02"))
    q.at(2027, 2, 25, 10)
    for unit, previous, current in (("A", "100.00", "112.00"), ("B", "200.00", "208.50"), ("D", "300.00", "310.00")):
        await q.post(q.desk, f"/estates/{q.estate.id}/meter-readings", {
            "unit_id": str(q.units[unit].id), "fee_item_id": str(q.items["water"].id), "period": "2027-02",
            "previous": previous, "current": current}, status=201)
    split = await q.post(q.finance, f"/shared-meters/{q.meter['id']}/readings",
                         {"period": "2027-02", "previous": "5000.00", "current": "5040.50"}, status=201)
    q.split = split
    await q.post(q.finance2, f"/shared-meter-splits/{split['id']}/approve")
    await q.post(q.finance, f"/shared-meter-splits/{split['id']}/bill")
    await q.job("account_deduction", 2027, 2, 26, 6, 30)


async def _march(q: Quarter) -> None:
    await q.bill_month("2027-03")
    q.at(2027, 3, 5, 10)
    await q.pay("C-mar", "C", "161.02", await q.charge("C", "mgmt", "2027-03"), await q.charge("C", "shared", "2027-02"))
    await q.pay("D-water", "D", "41.92", await q.charge("D", "water", "2027-02"), await q.charge("D", "shared", "2027-02"))
    # B asks at the desk to be let off February's late fee: posted, asked for, approved, then paid.
    q.at(2027, 3, 8, 10)
    posted = await q.post(q.desk, f"/units/{q.units['B'].id}/late-fees")
    assert posted["total"] == "1.93", posted
    fee = await q.charge("B", "mgmt", late_fee_of="2027-02")
    waiver = await q.post(q.desk, f"/charges/{fee.id}/waivers", {"kind": "percentage", "value": "100",
                                                               "reason": "首次逾期，主管同意免收滞纳金"}, status=201)
    await q.post(q.supervisor, f"/waivers/{waiver['id']}/approve", {"reason": "同意"})
    await q.pay("B-rest", "B", "521.12", *[await q.charge("B", i, p) for i, p in (
        ("mgmt", "2027-02"), ("mgmt", "2027-03"), ("water", "2027-02"), ("shared", "2027-02"))])
    await q.job("month_end_late_fees", 2027, 3, 31, 23, 0)
    q.at(2027, 3, 31, 23, 40)


async def quarter(app, client, session, clock) -> Quarter:
    q = await _office(app, client, session, clock)
    await _before_the_quarter(q)
    await _january(q)
    await _february(q)
    await _march(q)
    return q
