"""Discount rules over a set of units (优惠规则): asked, approved once, applied to a month (issue 17)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, FeeItem
from app.domain.fees.waivers.model import DiscountRule, Waiver
from app.domain.registry.model import Building, Estate, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.registry_factories import count_rows, make_building, make_unit, two_estates

API = "/api/v1"
D = Decimal


@dataclass
class Estate2:
    estate: Estate
    other: Estate
    item: FeeItem
    a: Building
    units: list[Unit]  # a-101 (89.20 m², vacant), a-102, b-201
    charges: list[Charge]  # 2026-11 of each unit: 223.00, 160.56, 223.00
    finance: Staff
    finance2: Staff
    supervisor: Staff
    desk: Staff


async def estate2(session) -> Estate2:
    estate, other = await two_estates(session)
    a = await make_building(session, estate=estate, number=1)
    b = await make_building(session, estate=estate, number=2)
    units = [await make_unit(session, building=a, number="101", is_vacant=True), await make_unit(session, building=a, number="102"),
             await make_unit(session, building=b, number="201")]
    item = await make_fee_item(session, estate=estate, price="2.50")
    charges = [await make_charge(session, unit=u, item=item, amount=amt, period="2026-11", due_date=date(2026, 11, 1))
               for u, amt in zip(units, ("223.00", "160.56", "223.00"), strict=True)]
    staff = [await make_staff(session, estates=[estate], roles=[r]) for r in
             (Role.finance, Role.finance, Role.supervisor, Role.receptionist)]
    return Estate2(estate=estate, other=other, item=item, a=a, units=units, charges=charges, finance=staff[0],
                   finance2=staff[1], supervisor=staff[2], desk=staff[3])


async def create(client, e: Estate2, *, staff: Staff | None = None, **body):
    body = {"fee_item_id": str(e.item.id), "kind": "vacant_unit", "value": "50", "from_month": "2026-11",
            "reason": "空置房优惠", **body}
    return await client.post(f"{API}/estates/{e.estate.id}/discount-rules", json=body, headers=(staff or e.finance).headers)


async def approved(client, e: Estate2, **body) -> dict:
    made = await create(client, e, **body)
    assert made.status_code == 201, made.text
    r = await client.post(f"{API}/discount-rules/{made.json()['id']}/approve", headers=e.finance2.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def apply(client, e: Estate2, rule_id: str, month: str = "2026-11", staff: Staff | None = None):
    return await client.post(f"{API}/discount-rules/{rule_id}/apply", json={"month": month}, headers=(staff or e.finance).headers)


async def waived(session, e: Estate2) -> list[Decimal]:
    rows = (await session.execute(select(Charge).where(Charge.id.in_([c.id for c in e.charges]))
                                  .execution_options(populate_existing=True))).scalars()
    by_id = {c.id: c.amount_waived for c in rows}
    return [by_id[c.id] for c in e.charges]


class TestCreateAndApprove:
    async def test_anonymous_401_and_the_desk_403(self, client, session):
        e = await estate2(session)
        r = await client.post(f"{API}/estates/{e.estate.id}/discount-rules", json={})
        assert r.status_code == 401
        assert_problem(await create(client, e, staff=e.desk), 403, "forbidden")

    async def test_another_estate_404(self, client, session):
        e = await estate2(session)
        outsider = await make_staff(session, estates=[e.other], roles=[Role.finance])
        assert_problem(await create(client, e, staff=outsider), 404, "estate-not-found")
        rule = (await create(client, e)).json()
        assert_problem(await client.get(f"{API}/discount-rules/{rule['id']}", headers=outsider.headers), 404,
                       "discount-rule-not-found")
        assert_problem(await client.post(f"{API}/discount-rules/{rule['id']}/approve", headers=outsider.headers), 404,
                       "discount-rule-not-found")

    @pytest.mark.parametrize(("body", "problem", "field"), [
        ({"value": "101"}, "percent-above-hundred", "value"),
        ({"to_month": "2026-10"}, "months-out-of-order", "to_month"),
        ({"from_month": "2026-13"}, "validation-failed", "from_month"),
        ({"kind": "prepay"}, "validation-failed", "kind"),
        ({"unit_ids": []}, "validation-failed", "unit_ids"),
        ({"reason": ""}, "validation-failed", "reason"),
    ])
    async def test_bad_input_names_the_field(self, client, session, body, problem, field):
        e = await estate2(session)
        assert_invalid(await create(client, e, **body), problem, field)
        assert await count_rows(session, DiscountRule) == 0

    async def test_units_of_another_estate_and_both_sets_are_refused(self, client, session):
        e = await estate2(session)
        stranger = await make_unit(session, building=await make_building(session, estate=e.other, number=9))
        assert_invalid(await create(client, e, unit_ids=[str(stranger.id)]), "units-not-in-estate", "unit_ids")
        assert_invalid(await create(client, e, unit_ids=[str(e.units[0].id)], building_id=str(e.a.id)), "one-unit-set",
                       "building_id")
        assert_problem(await create(client, e, fee_item_id=str(uuid.uuid4())), 404, "fee-item-not-found")
        assert await count_rows(session, DiscountRule) == 0

    async def test_a_percentage_rule_is_finance_to_approve_not_its_author(self, client, session):
        e = await estate2(session)
        rule = (await create(client, e)).json()
        url = f"{API}/discount-rules/{rule['id']}/approve"
        assert_problem(await client.post(url, headers=e.supervisor.headers), 403, "finance-approves-rule")
        assert_problem(await client.post(url, headers=e.finance.headers), 403, "self-approval")
        r = await client.post(url, headers=e.finance2.headers)
        assert (r.status_code, r.json()["status"]) == (200, "approved")

    async def test_an_amount_rule_within_the_threshold_the_supervisor_approves(self, client, session):
        e = await estate2(session)
        rule = (await create(client, e, kind="amount", value="20")).json()
        r = await client.post(f"{API}/discount-rules/{rule['id']}/approve", headers=e.supervisor.headers)
        assert r.status_code == 200, r.text


class TestApply:
    async def test_vacant_unit_rule_halves_the_vacant_units_charge_once(self, client, session):
        e = await estate2(session)
        rule = await approved(client, e)
        r = await apply(client, e, rule["id"])
        # a-101 is the only vacant unit: 223.00 × 50% = 111.50
        assert r.json() == {"rule_id": rule["id"], "month": "2026-11", "waivers_created": 1, "total_waived": "111.50"}
        assert await waived(session, e) == [D("111.50"), D("0.00"), D("0.00")]
        again = await apply(client, e, rule["id"])
        assert (again.json()["waivers_created"], again.json()["total_waived"]) == (0, "0.00")
        assert await waived(session, e) == [D("111.50"), D("0.00"), D("0.00")]
        line = (await session.execute(select(Waiver).where(Waiver.rule_id == uuid.UUID(rule["id"])))).scalar_one()
        assert (line.status, line.reason, line.decided_by) == ("approved", "空置房优惠", e.finance2.id)

    async def test_amount_rule_over_a_building_never_more_than_owed(self, client, session):
        e = await estate2(session)
        # a-102 has paid 150.00 of 160.56: 10.56 left, so it gets 10.56 of the 20.00.
        c = e.charges[1]
        c.amount_paid = D("150.00")
        session.add(c)
        await session.commit()
        rule = await approved(client, e, kind="amount", value="20", building_id=str(e.a.id), reason="楼栋维修补偿")
        r = await apply(client, e, rule["id"])
        # 20.00 + 10.56 = 30.56; building b's unit untouched.
        assert (r.json()["waivers_created"], r.json()["total_waived"]) == (2, "30.56")
        assert await waived(session, e) == [D("20.00"), D("10.56"), D("0.00")]

    async def test_percentage_rule_over_listed_units(self, client, session):
        e = await estate2(session)
        rule = await approved(client, e, kind="percentage", value="10", unit_ids=[str(e.units[1].id), str(e.units[2].id)])
        r = await apply(client, e, rule["id"])
        # 160.56 × 10% = 16.056 -> 16.06; 223.00 × 10% = 22.30; 16.06 + 22.30 = 38.36
        assert r.json()["total_waived"] == "38.36"
        assert await waived(session, e) == [D("0.00"), D("16.06"), D("22.30")]

    async def test_not_approved_or_outside_its_months_is_refused(self, client, session):
        e = await estate2(session)
        rule = (await create(client, e, to_month="2026-12")).json()
        assert_problem(await apply(client, e, rule["id"]), 409, "rule-not-approved")
        await client.post(f"{API}/discount-rules/{rule['id']}/approve", headers=e.finance2.headers)
        assert_invalid(await apply(client, e, rule["id"], month="2027-01"), "month-outside-rule", "month")
        assert_422(await apply(client, e, rule["id"], month="2026-1"), "month")
        assert_problem(await apply(client, e, rule["id"], staff=e.desk), 403, "forbidden")
        assert await count_rows(session, Waiver) == 0

    async def test_the_billing_run_applies_approved_rules(self, client, session):
        e = await estate2(session)
        rule = await approved(client, e, from_month="2026-12")
        r = await client.post(f"{API}/estates/{e.estate.id}/billing-runs", json={"month": "2026-12"}, headers=e.finance.headers)
        assert r.status_code == 200, r.text
        december = (await session.execute(select(Charge).where(Charge.period == "2026-12", Charge.unit_id == e.units[0].id)
                                          .execution_options(populate_existing=True))).scalar_one()
        # 2.50 × 89.20 m² = 223.00, vacant: 50% off = 111.50
        assert (december.amount, december.amount_waived) == (D("223.00"), D("111.50"))
        assert (await apply(client, e, rule["id"], month="2026-12")).json()["waivers_created"] == 0
