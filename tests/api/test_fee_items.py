"""Fee items with their price history, and units' subscriptions."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.model import BillingRun, FeeItem, FeeKind, FeePrice, UnitFeeItem
from tests.factories import make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.problems import assert_422, assert_invalid
from tests.registry_factories import count_rows, make_building, make_unit, two_estates

API = "/api/v1"


def new_item(**kw) -> dict:
    return {"code": "mgmt", "name": "物业管理费", "kind": "per_area", "unit_label": "元/㎡·月",
            "unit_price": "1.80", "effective_from": "2026-01-01", **kw}


class TestFeeItemPermissions:
    async def test_anonymous_401(self, client, session):
        estate, _ = await two_estates(session)
        item = await make_fee_item(session, estate=estate)
        calls = [
            client.get(f"{API}/estates/{estate.id}/fee-items"),
            client.post(f"{API}/estates/{estate.id}/fee-items", json=new_item()),
            client.get(f"{API}/fee-items/{item.id}"),
            client.patch(f"{API}/fee-items/{item.id}", json={"name": "x"}),
            client.post(f"{API}/fee-items/{item.id}/prices", json={"unit_price": "2", "effective_from": "2027-01-01"}),
        ]
        for call in calls:
            r = await call
            assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")

    async def test_desk_reads_but_may_not_configure(self, client, session):
        estate, _ = await two_estates(session)
        item = await make_fee_item(session, estate=estate)
        desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        assert (await client.get(f"{API}/fee-items/{item.id}", headers=desk.headers)).status_code == 200
        r = await client.post(f"{API}/estates/{estate.id}/fee-items", json=new_item(), headers=desk.headers)
        assert r.status_code == 403
        assert (await client.patch(f"{API}/fee-items/{item.id}", json={"name": "x"}, headers=desk.headers)).status_code == 403
        r = await client.post(f"{API}/fee-items/{item.id}/prices", json={"unit_price": "2", "effective_from": "2027-01-01"},
                              headers=desk.headers)
        assert r.status_code == 403
        tech = await make_staff(session, estates=[estate], roles=[Role.technician])
        assert (await client.get(f"{API}/estates/{estate.id}/fee-items", headers=tech.headers)).status_code == 403
        assert await count_rows(session, FeeItem) == 1 and await count_rows(session, FeePrice) == 1

    async def test_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        theirs = await make_fee_item(session, estate=other)
        finance = await make_staff(session, estates=[mine], roles=[Role.finance])
        assert (await client.get(f"{API}/estates/{other.id}/fee-items", headers=finance.headers)).status_code == 404
        r = await client.post(f"{API}/estates/{other.id}/fee-items", json=new_item(), headers=finance.headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/fee-items/{theirs.id}", headers=finance.headers)).status_code == 404
        assert (await client.patch(f"{API}/fee-items/{theirs.id}", json={"name": "x"}, headers=finance.headers)).status_code == 404
        r = await client.post(f"{API}/fee-items/{theirs.id}/prices", json={"unit_price": "2", "effective_from": "2027-01-01"},
                              headers=finance.headers)
        assert r.status_code == 404
        assert await count_rows(session, FeeItem) == 1 and await count_rows(session, FeePrice) == 1


class TestFeeItems:
    async def test_create_get_patch(self, client, session):
        estate, _ = await two_estates(session)
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        body = new_item(vacant_rule="discount", vacant_discount="0.5", due_day=15)
        r = await client.post(f"{API}/estates/{estate.id}/fee-items", json=body, headers=finance.headers)
        assert r.status_code == 201, r.text
        item = r.json()
        assert (item["code"], item["kind"], item["vacant_rule"], item["due_day"]) == ("mgmt", "per_area", "discount", 15)
        assert Decimal(item["current_price"]) == Decimal("1.80")
        assert [(p["effective_from"], Decimal(p["unit_price"])) for p in item["prices"]] == [("2026-01-01", Decimal("1.80"))]
        r = await client.patch(f"{API}/fee-items/{item['id']}", json={"name": "物业服务费", "active": False},
                               headers=finance.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["active"]) == ("物业服务费", False)
        assert "late_fee_daily_rate" not in r.json()  # late fees are the estate's rule's now
        desk = await make_staff(session, estates=[estate])
        r = await client.get(f"{API}/estates/{estate.id}/fee-items", params={"active": "false"}, headers=desk.headers)
        assert [i["code"] for i in r.json()["items"]] == ["mgmt"]
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "fee_item") == 2

    async def test_patch_never_changes_the_price(self, client, session):
        estate, _ = await two_estates(session)
        item = await make_fee_item(session, estate=estate)
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        for body in ({"unit_price": "9"}, {"name": None}, {"kind": "fixed"}, {"vacant_discount": "1.5"}, {"due_day": 29}):
            r = await client.patch(f"{API}/fee-items/{item.id}", json=body, headers=finance.headers)
            assert_invalid(r, "validation-failed", next(iter(body)))
        r = await client.get(f"{API}/fee-items/{item.id}", headers=finance.headers)
        assert Decimal(r.json()["current_price"]) == Decimal("1.80") and r.json()["kind"] == "per_area"

    async def test_list_filters_and_sort(self, client, session):
        estate, other = await two_estates(session)
        await make_fee_item(session, estate=estate, code="b-water", kind=FeeKind.metered, applies_to_all=False)
        await make_fee_item(session, estate=estate, code="a-mgmt")
        await make_fee_item(session, estate=other, code="c-other")
        desk = await make_staff(session, estates=[estate])

        async def codes(**params) -> list[str]:
            r = await client.get(f"{API}/estates/{estate.id}/fee-items", params=params, headers=desk.headers)
            assert r.status_code == 200, r.text
            return [i["code"] for i in r.json()["items"]]

        assert await codes() == ["a-mgmt", "b-water"]
        assert await codes(kind="metered") == ["b-water"]
        assert await codes(sort="-code", limit=1) == ["b-water"]
        for params in ({"kind": "gas"}, {"sort": "price"}, {"active": "perhaps"}):
            r = await client.get(f"{API}/estates/{estate.id}/fee-items", params=params, headers=desk.headers)
            assert r.status_code == 422, params
            assert_422(r, next(iter(params)))

    async def test_bad_input_422_nothing_written(self, client, session):
        estate, _ = await two_estates(session)
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        bad = [
            new_item(unit_price="1.00005"), new_item(unit_price="-1"), new_item(unit_price="NaN"), new_item(unit_price="Infinity"),
            new_item(unit_price=1.00005), new_item(kind="gas"), new_item(code=""), new_item(name="\x00"),
            new_item(vacant_discount="1.5"), new_item(due_day=0), new_item(due_day=29), new_item(effective_from="2026-02-30"),
            new_item(late_fee_daily_rate="0.0005"), new_item(extra="x"),
            {"code": "x", "name": "x", "kind": "fixed"},
        ]
        named = iter(["unit_price", "unit_price", "unit_price", "unit_price", "unit_price", "kind", "code", "name",
                      "vacant_discount", "due_day", "due_day", "effective_from", "late_fee_daily_rate",
                      "extra", "unit_price"])
        for body in bad:
            r = await client.post(f"{API}/estates/{estate.id}/fee-items", json=body, headers=finance.headers)
            assert r.status_code == 422, (body, r.text)
            assert_422(r, next(named))
        assert await count_rows(session, FeeItem) == 0 and await count_rows(session, FeePrice) == 0

    async def test_code_taken_409(self, client, session):
        estate, _ = await two_estates(session)
        await make_fee_item(session, estate=estate, code="mgmt")
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        r = await client.post(f"{API}/estates/{estate.id}/fee-items", json=new_item(), headers=finance.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/fee-item-code-taken"
        assert await count_rows(session, FeeItem) == 1 and await count_rows(session, FeePrice) == 1


class TestPrices:
    async def test_new_price_from_a_date(self, client, session):
        estate, _ = await two_estates(session)
        item = await make_fee_item(session, estate=estate, price="1.80", effective_from=date(2026, 1, 1))
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        r = await client.post(f"{API}/fee-items/{item.id}/prices", json={"unit_price": "2.1", "effective_from": "2026-12-01"},
                              headers=finance.headers)
        assert r.status_code == 201, r.text
        assert [(p["effective_from"], Decimal(p["unit_price"])) for p in r.json()["prices"]] == [
            ("2026-01-01", Decimal("1.80")), ("2026-12-01", Decimal("2.10"))]
        r = await client.post(f"{API}/fee-items/{item.id}/prices", json={"unit_price": "2.2", "effective_from": "2026-12-01"},
                              headers=finance.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/price-date-taken"
        assert await count_rows(session, FeePrice) == 2

    async def test_a_billed_month_is_refused(self, client, session):
        estate, _ = await two_estates(session)
        item = await make_fee_item(session, estate=estate)
        unit = await make_unit(session, building=await make_building(session, estate=estate))
        await make_charge(session, unit=unit, item=item, amount="160.56", period="2026-11")
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        for day in ("2026-11-15", "2026-11-01", "2026-10-01"):
            r = await client.post(f"{API}/fee-items/{item.id}/prices", json={"unit_price": "2", "effective_from": day},
                                  headers=finance.headers)
            assert r.status_code == 409 and r.json()["type"] == "/problems/price-would-rewrite-billed-charges", day
        r = await client.post(f"{API}/fee-items/{item.id}/prices", json={"unit_price": "2", "effective_from": "2026-12-01"},
                              headers=finance.headers)
        assert r.status_code == 201
        assert await count_rows(session, FeePrice) == 2

    async def test_a_billing_run_marks_the_month_billed(self, client, session):
        estate, _ = await two_estates(session)
        item = await make_fee_item(session, estate=estate)
        session.add(BillingRun(estate_id=estate.id, month="2027-01", created_by="test"))
        await session.commit()
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        r = await client.post(f"{API}/fee-items/{item.id}/prices", json={"unit_price": "2", "effective_from": "2027-01-20"},
                              headers=finance.headers)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/price-would-rewrite-billed-charges"

    async def test_bad_price_422(self, client, session):
        estate, _ = await two_estates(session)
        item = await make_fee_item(session, estate=estate)
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        named = iter(["unit_price", "unit_price", "unit_price", "effective_from", "effective_from"])
        for body in ({"unit_price": "1.00005", "effective_from": "2027-01-01"}, {"unit_price": -1, "effective_from": "2027-01-01"},
                     {"unit_price": "NaN", "effective_from": "2027-01-01"}, {"unit_price": "2"},
                     {"unit_price": "2", "effective_from": "soon"}):
            r = await client.post(f"{API}/fee-items/{item.id}/prices", json=body, headers=finance.headers)
            assert r.status_code == 422, body
            assert_422(r, next(named))
        assert await count_rows(session, FeePrice) == 1


class TestSubscriptions:
    async def test_put_list_delete(self, client, session):
        estate, _ = await two_estates(session)
        parking = await make_fee_item(session, estate=estate, code="parking", kind=FeeKind.fixed, applies_to_all=False, price="150")
        unit = await make_unit(session, building=await make_building(session, estate=estate))
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        url = f"{API}/units/{unit.id}/fee-items/{parking.id}"
        r = await client.put(url, json={"quantity": "2", "from_month": "2026-11"}, headers=finance.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["fee_item_code"], Decimal(r.json()["quantity"]), r.json()["to_month"]) == ("parking", 2, None)
        r = await client.put(url, json={"quantity": "1", "from_month": "2026-11", "to_month": "2027-06"}, headers=finance.headers)
        assert r.status_code == 200 and r.json()["to_month"] == "2027-06"
        desk = await make_staff(session, estates=[estate])
        r = await client.get(f"{API}/units/{unit.id}/fee-items", headers=desk.headers)
        assert r.status_code == 200 and [Decimal(s["quantity"]) for s in r.json()["items"]] == [1]
        assert (await client.delete(url, headers=finance.headers)).status_code == 204
        assert (await client.delete(url, headers=finance.headers)).status_code == 404
        assert await count_rows(session, UnitFeeItem) == 0
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "unit_fee_item") == 3

    async def test_items_for_every_unit_take_no_subscription(self, client, session):
        estate, _ = await two_estates(session)
        mgmt = await make_fee_item(session, estate=estate)
        deposit = await make_fee_item(session, estate=estate, kind=FeeKind.one_off, applies_to_all=False)
        unit = await make_unit(session, building=await make_building(session, estate=estate))
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        for item in (mgmt, deposit):
            r = await client.put(f"{API}/units/{unit.id}/fee-items/{item.id}", json={"from_month": "2026-11"}, headers=finance.headers)
            assert r.status_code == 422 and r.json()["type"] == "/problems/not-subscribable"
        assert await count_rows(session, UnitFeeItem) == 0

    async def test_permissions_and_other_estate(self, client, session):
        mine, other = await two_estates(session)
        parking = await make_fee_item(session, estate=mine, kind=FeeKind.fixed, applies_to_all=False)
        unit = await make_unit(session, building=await make_building(session, estate=mine))
        their_unit = await make_unit(session, building=await make_building(session, estate=other))
        their_item = await make_fee_item(session, estate=other, kind=FeeKind.fixed, applies_to_all=False)
        body = {"from_month": "2026-11"}
        assert (await client.put(f"{API}/units/{unit.id}/fee-items/{parking.id}", json=body)).status_code == 401
        assert (await client.get(f"{API}/units/{unit.id}/fee-items")).status_code == 401
        assert (await client.delete(f"{API}/units/{unit.id}/fee-items/{parking.id}")).status_code == 401
        desk = await make_staff(session, estates=[mine])
        r = await client.put(f"{API}/units/{unit.id}/fee-items/{parking.id}", json=body, headers=desk.headers)
        assert r.status_code == 403
        assert (await client.delete(f"{API}/units/{unit.id}/fee-items/{parking.id}", headers=desk.headers)).status_code == 403
        finance = await make_staff(session, estates=[mine], roles=[Role.finance])
        r = await client.put(f"{API}/units/{their_unit.id}/fee-items/{parking.id}", json=body, headers=finance.headers)
        assert r.status_code == 404
        r = await client.put(f"{API}/units/{unit.id}/fee-items/{their_item.id}", json=body, headers=finance.headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/units/{their_unit.id}/fee-items", headers=finance.headers)).status_code == 404
        for bad in ({"from_month": "2026-13"}, {"from_month": "2026-11", "to_month": "2026-10"}, {"from_month": "2026-11", "quantity": 0},
                    {"from_month": "2026-11", "quantity": "1.005"}, {}):
            r = await client.put(f"{API}/units/{unit.id}/fee-items/{parking.id}", json=bad, headers=finance.headers)
            assert r.status_code == 422, bad
            assert r.json()["type"] == "/problems/validation-failed"
        assert await count_rows(session, UnitFeeItem) == 0
