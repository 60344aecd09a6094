"""A unit's billing period and mid-month subscriptions: the billing run prorates by days, and the
bill explanation shows the days (「× 17/31个月」). Hand-checked on a 31-day month and February 2027."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, FeeKind, UnitFeeItem
from app.domain.fees.prorate.model import UnitBillingPeriod
from tests.factories import make_staff
from tests.fees_factories import make_fee_item
from tests.helpers.problems import assert_422, assert_invalid
from tests.registry_factories import count_rows, make_building, make_unit, two_estates

API = "/api/v1"


async def estate_with_unit(session):
    """One 89.20 m² unit at 2.50/m²·月 (223.00 a whole month), a parking item at 150.00 a space."""
    estate, other = await two_estates(session)
    b = await make_building(session, estate=estate, number=8)
    unit = await make_unit(session, building=b, entrance="2", number="301", area="89.20")
    item = await make_fee_item(session, estate=estate, code="mgmt", price="2.50", effective_from=date(2026, 1, 1),
                               due_day=10, unit_label="元/㎡·月")
    finance = await make_staff(session, estates=[estate], roles=[Role.finance])
    return estate, other, unit, item, finance


async def run(client, estate, finance, month: str) -> None:
    r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": month}, headers=finance.headers)
    assert r.status_code == 200, r.text


async def charge_of(session, unit, month: str) -> Charge | None:
    stmt = select(Charge).where(Charge.unit_id == unit.id, Charge.period == month).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def put_period(client, unit, staff, **body):
    return await client.put(f"{API}/units/{unit.id}/billing-period", json=body, headers=staff.headers)


class TestBillingPeriodEndpoints:
    async def test_get_put_and_audited(self, client, session):
        _, _, unit, _, finance = await estate_with_unit(session)
        r = await client.get(f"{API}/units/{unit.id}/billing-period", headers=finance.headers)
        assert r.status_code == 200 and r.json() == {"unit_id": str(unit.id), "billed_from": None, "billed_to": None, "version": 0}
        r = await put_period(client, unit, finance, billed_from="2027-01-15")
        assert r.status_code == 200, r.text
        r = await put_period(client, unit, finance, billed_from="2027-01-15", billed_to="2027-02-10")
        assert r.json() == {"unit_id": str(unit.id), "billed_from": "2027-01-15", "billed_to": "2027-02-10", "version": 2}
        r = await client.get(f"{API}/units/{unit.id}/billing-period", headers=finance.headers)
        assert r.json()["billed_to"] == "2027-02-10"
        assert await count_rows(session, UnitBillingPeriod) == 1
        entries = (await session.execute(select(AuditEntry).where(AuditEntry.action == "set_billing_period")
                                         .order_by(AuditEntry.id))).scalars().all()
        assert [e.entity for e in entries] == ["unit_billing_period"] * 2
        assert entries[0].before is None and entries[1].before["billed_to"] is None
        assert entries[1].after["billed_to"] == "2027-02-10"

    async def test_who_may(self, client, session):
        estate, _, unit, _, _ = await estate_with_unit(session)
        assert (await client.get(f"{API}/units/{unit.id}/billing-period")).status_code == 401
        desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        assert (await client.get(f"{API}/units/{unit.id}/billing-period", headers=desk.headers)).status_code == 200
        assert (await put_period(client, unit, desk, billed_from="2027-01-15")).status_code == 403
        tech = await make_staff(session, estates=[estate], roles=[Role.technician])
        assert (await client.get(f"{API}/units/{unit.id}/billing-period", headers=tech.headers)).status_code == 403
        assert await count_rows(session, UnitBillingPeriod) == 0

    async def test_another_estates_unit_404(self, client, session):
        _, other, unit, _, _ = await estate_with_unit(session)
        outsider = await make_staff(session, estates=[other], roles=[Role.finance])
        assert (await client.get(f"{API}/units/{unit.id}/billing-period", headers=outsider.headers)).status_code == 404
        assert (await put_period(client, unit, outsider, billed_from="2027-01-15")).status_code == 404
        assert await count_rows(session, UnitBillingPeriod) == 0

    async def test_bad_input_422_nothing_written(self, client, session):
        _, _, unit, _, finance = await estate_with_unit(session)
        for body, field in (({"billed_from": "2027-13-01"}, "billed_from"), ({"billed_to": "tomorrow"}, "billed_to"),
                            ({"billed_from": 20270115}, "billed_from"), ({"moved": "2027-01-15"}, "moved")):
            assert_422(await put_period(client, unit, finance, **body), field)
        r = await put_period(client, unit, finance, billed_from="2027-02-10", billed_to="2027-01-15")
        assert_invalid(r, "billed-to-before-from", "billed_to")
        assert_422(await client.get(f"{API}/units/not-a-unit/billing-period", headers=finance.headers), "unit_id")
        assert await count_rows(session, UnitBillingPeriod) == 0


class TestProratedRun:
    async def test_move_in_31_day_month_and_move_out_february_2027(self, client, session, time_machine):
        time_machine.move_to("2027-03-05 02:00Z", tick=False)
        estate, _, unit, _, finance = await estate_with_unit(session)
        assert (await put_period(client, unit, finance, billed_from="2027-01-15", billed_to="2027-02-10")).status_code == 200
        await run(client, estate, finance, "2026-12")
        await run(client, estate, finance, "2027-01")
        await run(client, estate, finance, "2027-02")
        await run(client, estate, finance, "2027-03")
        assert await charge_of(session, unit, "2026-12") is None  # not moved in yet
        assert await charge_of(session, unit, "2027-03") is None  # moved out
        january, february = await charge_of(session, unit, "2027-01"), await charge_of(session, unit, "2027-02")
        # 15..31 January is 17 days: 2.50 × 89.20 × 17/31 = 3791/31 = 122.290… -> 122.29
        assert january.amount == Decimal("122.29")
        assert january.basis == {"rate": "2.50", "area": "89.20", "months": 1, "vacant_discount": None,
                                 "days": 17, "days_in_month": 31}
        # 1..10 February 2027 (28 days) is 10 days: 2.50 × 89.20 × 10/28 = 2230/28 = 79.642… -> 79.64
        assert february.amount == Decimal("79.64")
        assert (february.basis["days"], february.basis["days_in_month"]) == (10, 28)

        r = await client.get(f"{API}/units/{unit.id}/bill", headers=finance.headers)
        assert r.status_code == 200, r.text
        lines = {ln["period"]: ln for ln in r.json()["lines"]}
        assert lines["2027-01"]["explanation"] == "物业管理费 2.50元/㎡·月 × 89.20㎡ × 17/31个月 = 122.29元"
        assert lines["2027-02"]["explanation"] == "物业管理费 2.50元/㎡·月 × 89.20㎡ × 10/28个月 = 79.64元"
        assert {k: lines["2027-01"]["computation"][k] for k in ("days", "days_in_month", "months", "amount")} == {
            "days": 17, "days_in_month": 31, "months": 1, "amount": "122.29"}
        # 122.29 + 79.64 = 201.93
        assert r.json()["totals"]["billed"] == "201.93"

    async def test_the_issues_example_in_a_30_day_month(self, client, session):
        estate, _, unit, _, finance = await estate_with_unit(session)
        await put_period(client, unit, finance, billed_from="2026-11-14")
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs/preview", json={"month": "2026-11"}, headers=finance.headers)
        # 14..30 November is 17 days: 2.50 × 89.20 × 17/30 = 126.366… -> 126.37
        assert r.json()["total"] == "126.37" and r.json()["lines"][0]["basis"]["days"] == 17
        await run(client, estate, finance, "2026-11")
        r = await client.get(f"{API}/units/{unit.id}/bill", headers=finance.headers)
        assert r.json()["lines"][0]["explanation"] == "物业管理费 2.50元/㎡·月 × 89.20㎡ × 17/30个月 = 126.37元"

    async def test_whole_months_unchanged(self, client, session):
        estate, _, unit, _, finance = await estate_with_unit(session)
        await put_period(client, unit, finance, billed_from="2026-11-01", billed_to="2026-11-30")
        await run(client, estate, finance, "2026-11")
        charge = await charge_of(session, unit, "2026-11")
        assert charge.amount == Decimal("223.00") and "days" not in charge.basis


class TestMidMonthSubscription:
    async def test_parking_space_taken_mid_month(self, client, session):
        estate, _, unit, _, finance = await estate_with_unit(session)
        parking = await make_fee_item(session, estate=estate, code="park", name="车位管理费", kind=FeeKind.fixed, price="150.00",
                                      applies_to_all=False, unit_label="元/月", effective_from=date(2026, 1, 1))
        r = await client.put(f"{API}/units/{unit.id}/fee-items/{parking.id}", headers=finance.headers,
                             json={"from_month": "2027-02", "starts_on": "2027-02-20", "to_month": "2027-03", "ends_on": "2027-03-05"})
        assert r.status_code == 200, r.text
        assert (r.json()["starts_on"], r.json()["ends_on"]) == ("2027-02-20", "2027-03-05")
        await run(client, estate, finance, "2027-02")
        await run(client, estate, finance, "2027-03")
        rows = (await session.execute(select(Charge.period, Charge.amount).where(Charge.fee_item_id == parking.id)
                                      .order_by(Charge.period))).all()
        # 20..28 February 2027 is 9 days: 150.00 × 9/28 = 48.214… -> 48.21; 1..5 March: 150.00 × 5/31 = 24.193… -> 24.19
        assert [(p, str(a)) for p, a in rows] == [("2027-02", "48.21"), ("2027-03", "24.19")]

    async def test_day_outside_its_month_422_nothing_written(self, client, session):
        estate, _, unit, _, finance = await estate_with_unit(session)
        parking = await make_fee_item(session, estate=estate, code="park", kind=FeeKind.fixed, price="150.00",
                                      applies_to_all=False, effective_from=date(2026, 1, 1))
        url = f"{API}/units/{unit.id}/fee-items/{parking.id}"
        r = await client.put(url, headers=finance.headers, json={"from_month": "2027-02", "starts_on": "2027-03-01"})
        assert_invalid(r, "day-outside-month", "starts_on")
        r = await client.put(url, headers=finance.headers, json={"from_month": "2027-02", "ends_on": "2027-02-10"})
        assert_invalid(r, "day-outside-month", "ends_on")
        assert await count_rows(session, UnitFeeItem) == 0
