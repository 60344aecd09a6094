"""The monthly billing run: a hand-checked month, vacant units, price changes, once only, preview."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.model import BillingRun, Charge, FeeKind, UnitFeeItem, VacantRule
from tests.factories import make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, make_building, make_unit, two_estates

API = "/api/v1"


async def hand_checked_estate(session, **item_rules):
    """Three occupied units of 89.20, 112.70 and 143.90 m² at 1.80/m²; a public unit that is never billed."""
    estate, other = await two_estates(session)
    b = await make_building(session, estate=estate, number=8)
    units = [await make_unit(session, building=b, entrance="1", number=n, area=a)
             for n, a in (("101", "89.20"), ("102", "112.70"), ("103", "143.90"))]
    await make_unit(session, building=b, entrance="", number="clubhouse", area="300", is_public=True)
    item = await make_fee_item(session, estate=estate, code="mgmt", price="1.80", effective_from=date(2026, 1, 1), due_day=10,
                               **item_rules)
    finance = await make_staff(session, estates=[estate], roles=[Role.finance])
    return estate, other, units, item, finance


async def amounts(session, month: str) -> dict:
    rows = await session.execute(select(Charge.unit_id, Charge.amount).where(Charge.period == month))
    return {r.unit_id: r.amount for r in rows}


class TestBillingRunPermissions:
    async def test_anonymous_401_and_roles_403(self, client, session):
        estate, other, _, _, _ = await hand_checked_estate(session)
        body = {"month": "2026-11"}
        assert (await client.post(f"{API}/estates/{estate.id}/billing-runs", json=body)).status_code == 401
        assert (await client.post(f"{API}/estates/{estate.id}/billing-runs/preview", json=body)).status_code == 401
        assert (await client.get(f"{API}/estates/{estate.id}/billing-runs")).status_code == 401
        for role in (Role.receptionist, Role.supervisor, Role.manager):
            staff = await make_staff(session, estates=[estate], roles=[role])
            assert (await client.post(f"{API}/estates/{estate.id}/billing-runs", json=body, headers=staff.headers)).status_code == 403
            r = await client.post(f"{API}/estates/{estate.id}/billing-runs/preview", json=body, headers=staff.headers)
            assert r.status_code == 403
        tech = await make_staff(session, estates=[estate], roles=[Role.technician])
        assert (await client.get(f"{API}/estates/{estate.id}/billing-runs", headers=tech.headers)).status_code == 403
        assert await count_rows(session, Charge) == 0 and await count_rows(session, BillingRun) == 0

    async def test_other_estate_404(self, client, session):
        estate, other, _, _, _ = await hand_checked_estate(session)
        outsider = await make_staff(session, estates=[other], roles=[Role.finance])
        body = {"month": "2026-11"}
        assert (await client.post(f"{API}/estates/{estate.id}/billing-runs", json=body, headers=outsider.headers)).status_code == 404
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs/preview", json=body, headers=outsider.headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/estates/{estate.id}/billing-runs", headers=outsider.headers)).status_code == 404
        assert await count_rows(session, Charge) == 0

    async def test_bad_month_422_nothing_written(self, client, session):
        estate, _, _, _, finance = await hand_checked_estate(session)
        for body in ({"month": "2026-13"}, {"month": "2026-1"}, {"month": "2026-11-01"}, {"month": "\x00"}, {}, {"month": 202611}):
            r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json=body, headers=finance.headers)
            assert r.status_code == 422, body
            assert_422(r, "month")
            r = await client.post(f"{API}/estates/{estate.id}/billing-runs/preview", json=body, headers=finance.headers)
            assert r.status_code == 422, body
            assert_422(r, "month")
        assert await count_rows(session, Charge) == 0 and await count_rows(session, BillingRun) == 0


class TestBillingRun:
    async def test_hand_checked_month(self, client, session):
        estate, _, units, item, finance = await hand_checked_estate(session)
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-11"}, headers=finance.headers)
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["created"] == 3
        assert (result["run"]["month"], result["run"]["charges_created"], result["run"]["total"]) == ("2026-11", 3, "622.44")
        assert await amounts(session, "2026-11") == {
            units[0].id: Decimal("160.56"), units[1].id: Decimal("202.86"), units[2].id: Decimal("259.02")}
        charge = (await session.execute(select(Charge).where(Charge.unit_id == units[0].id))).scalar_one()
        assert charge.basis == {"rate": "1.80", "area": "89.20", "months": 1, "vacant_discount": None}
        assert (charge.due_date, charge.description, charge.source) == (date(2026, 11, 10), "2026年11月物业管理费", "billing")
        assert str(charge.billing_run_id) == result["run"]["id"]
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "billing_run") == 1
        desk = await make_staff(session, estates=[estate])
        r = await client.get(f"{API}/estates/{estate.id}/billing-runs", headers=desk.headers)
        assert r.status_code == 200 and [run["month"] for run in r.json()["items"]] == ["2026-11"]

    async def test_billing_twice_creates_nothing(self, client, session):
        estate, _, _, _, finance = await hand_checked_estate(session)
        first = (await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-11"}, headers=finance.headers)).json()
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-11"}, headers=finance.headers)
        assert r.status_code == 200
        assert r.json()["created"] == 0 and r.json()["run"] == first["run"]
        assert await count_rows(session, Charge) == 3 and await count_rows(session, BillingRun) == 1
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs/preview", json={"month": "2026-11"}, headers=finance.headers)
        assert (r.json()["already_run"], r.json()["count"], r.json()["total"]) == (True, 0, "0.00")

    async def test_a_unit_billed_already_is_not_billed_again(self, client, session):
        estate, _, units, item, finance = await hand_checked_estate(session)
        await make_charge(session, unit=units[0], item=item, amount="160.56", period="2026-11")
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-11"}, headers=finance.headers)
        assert (r.json()["created"], r.json()["run"]["total"]) == (2, "461.88")
        assert await count_rows(session, Charge) == 3

    async def test_vacant_units_discount_and_skip(self, client, session):
        estate, _, units, item, finance = await hand_checked_estate(session, vacant_rule=VacantRule.discount,
                                                                    vacant_discount=Decimal("0.5"))
        units[1].is_vacant = True
        session.add(units[1])
        skip_item = await make_fee_item(session, estate=estate, code="garbage", kind=FeeKind.fixed, price="15",
                                        vacant_rule=VacantRule.skip)
        units[2].is_vacant = True
        session.add(units[2])
        await session.commit()
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-11"}, headers=finance.headers)
        assert r.status_code == 200, r.text
        rows = (await session.execute(select(Charge.unit_id, Charge.fee_item_id, Charge.amount, Charge.basis))).all()
        got = {(u, i): a for u, i, a, _ in rows}
        assert got == {
            (units[0].id, item.id): Decimal("160.56"),
            (units[1].id, item.id): Decimal("101.43"),  # 202.86 less half
            (units[2].id, item.id): Decimal("129.51"),  # 259.02 less half
            (units[0].id, skip_item.id): Decimal("15.00"),  # the vacant units skip garbage
        }
        basis = next(b for u, i, _, b in rows if (u, i) == (units[1].id, item.id))
        assert basis == {"rate": "1.80", "area": "112.70", "months": 1, "vacant_discount": "0.5000",
                         "gross": "202.86", "discount": "101.43"}
        assert r.json()["run"]["total"] == "406.50"

    async def test_price_change_bills_december_at_the_new_price(self, client, session):
        estate, _, units, item, finance = await hand_checked_estate(session)
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-11"}, headers=finance.headers)
        assert r.json()["created"] == 3
        r = await client.post(f"{API}/fee-items/{item.id}/prices", json={"unit_price": "2.00", "effective_from": "2026-12-01"},
                              headers=finance.headers)
        assert r.status_code == 201, r.text
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-12"}, headers=finance.headers)
        assert r.json()["created"] == 3 and r.json()["run"]["total"] == "691.60"
        assert await amounts(session, "2026-12") == {
            units[0].id: Decimal("178.40"), units[1].id: Decimal("225.40"), units[2].id: Decimal("287.80")}
        assert await amounts(session, "2026-11") == {
            units[0].id: Decimal("160.56"), units[1].id: Decimal("202.86"), units[2].id: Decimal("259.02")}

    async def test_subscriptions_and_inactive_items(self, client, session):
        estate, _, units, _, finance = await hand_checked_estate(session)
        parking = await make_fee_item(session, estate=estate, code="parking", kind=FeeKind.fixed, applies_to_all=False, price="150")
        await make_fee_item(session, estate=estate, code="old", kind=FeeKind.fixed, price="9", active=False)
        await make_fee_item(session, estate=estate, code="water", kind=FeeKind.metered, applies_to_all=False, price="3.45")
        session.add_all([
            UnitFeeItem(estate_id=estate.id, unit_id=units[0].id, fee_item_id=parking.id, quantity=Decimal("2"), from_month="2026-10"),
            UnitFeeItem(estate_id=estate.id, unit_id=units[1].id, fee_item_id=parking.id, from_month="2026-12"),
            UnitFeeItem(estate_id=estate.id, unit_id=units[2].id, fee_item_id=parking.id, from_month="2026-01", to_month="2026-10"),
        ])
        await session.commit()
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-11"}, headers=finance.headers)
        assert r.json()["created"] == 4
        parked = (await session.execute(select(Charge.unit_id, Charge.amount, Charge.basis).where(Charge.fee_item_id == parking.id))).all()
        assert [(c.unit_id, c.amount, c.basis["quantity"]) for c in parked] == [(units[0].id, Decimal("300.00"), "2.00")]

    async def test_an_item_without_a_price_is_reported(self, client, session):
        estate, _, _, _, finance = await hand_checked_estate(session)
        await make_fee_item(session, estate=estate, code="later", kind=FeeKind.fixed, price="20", effective_from=date(2027, 1, 1))
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs/preview", json={"month": "2026-11"}, headers=finance.headers)
        assert r.json()["items_without_price"] == ["later"] and r.json()["count"] == 3


class TestPreview:
    async def test_preview_writes_nothing(self, client, session):
        estate, _, units, item, finance = await hand_checked_estate(session, vacant_rule=VacantRule.skip)
        units[2].is_vacant = True
        session.add(units[2])
        await session.commit()
        audit_before = await count_rows(session, AuditEntry)
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs/preview", json={"month": "2026-11"}, headers=finance.headers)
        assert r.status_code == 200, r.text
        preview = r.json()
        assert (preview["already_run"], preview["count"], preview["total"], preview["skipped_vacant"]) == (False, 2, "363.42", 1)
        assert preview["per_item"] == [{"fee_item_id": str(item.id), "code": "mgmt", "name": "物业管理费", "count": 2, "total": "363.42"}]
        assert [(ln["unit_label"], ln["amount"]) for ln in preview["lines"]] == [("8号楼1单元101", "160.56"), ("8号楼1单元102", "202.86")]
        assert preview["lines"][0]["basis"]["area"] == "89.20"
        assert await count_rows(session, Charge) == 0 and await count_rows(session, BillingRun) == 0
        assert await count_rows(session, AuditEntry) == audit_before
        # What the preview promised is what the run creates.
        r = await client.post(f"{API}/estates/{estate.id}/billing-runs", json={"month": "2026-11"}, headers=finance.headers)
        assert (r.json()["created"], r.json()["run"]["total"]) == (2, "363.42")


class TestRace:
    async def test_a_charge_landing_between_plan_and_insert_is_not_doubled(self, session):
        from app.domain.auth.principal import system_actor
        from app.domain.fees.billing import runs as billing_runs
        from app.domain.registry.model import Estate

        estate, _, units, item, _ = await hand_checked_estate(session)
        estate = await session.get(Estate, estate.id)
        plan = await billing_runs.plan_month(session, estate=estate, month="2026-11")
        assert len(plan.lines) == 3
        # Another run's charge for the first unit commits after this plan was made.
        await make_charge(session, unit=units[0], item=item, amount="160.56", period="2026-11")
        run = await billing_runs._claim_run(session, actor=system_actor("test"), estate_id=estate.id, month="2026-11")
        created = await billing_runs._insert_charges(session, run=run, plan=plan)
        await session.commit()
        assert sorted(created) == [Decimal("202.86"), Decimal("259.02")]
        assert await count_rows(session, Charge) == 3
