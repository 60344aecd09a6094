"""Estates: list, get, create (admin, then assigned), update with time zone and office hours."""
from __future__ import annotations

from sqlalchemy import func, select

from app.domain.audit.model import AuditEntry
from app.domain.auth.model import UserEstate
from app.domain.auth.roles import Role
from app.domain.registry.model import Estate
from tests.factories import make_company, make_estate, make_staff
from tests.helpers.problems import assert_422, assert_invalid

API = "/api/v1"


async def _count(session, model, *where) -> int:
    return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


class TestListEstates:
    async def test_anonymous_401(self, client):
        assert (await client.get(f"{API}/estates")).status_code == 401

    async def test_only_the_callers_estates(self, client, session):
        company = await make_company(session)
        mine = await make_estate(session, company=company, name="淇水春天")
        other = await make_estate(session, company=company, name="祥瑞花園")
        staff = await make_staff(session, estates=[mine], roles=[Role.technician])
        r = await client.get(f"{API}/estates", headers=staff.headers)
        assert r.status_code == 200, r.text
        assert [e["id"] for e in r.json()["items"]] == [str(mine.id)]
        assert str(other.id) not in r.text

    async def test_filter_sort_and_page(self, client, session):
        company = await make_company(session)
        estates = [await make_estate(session, company=company, name=n, code=c) for n, c in (("乙苑", "B"), ("甲苑", "A"), ("丙苑", "C"))]
        staff = await make_staff(session, estates=estates)
        r = await client.get(f"{API}/estates", params={"sort": "-code", "limit": 2}, headers=staff.headers)
        assert r.status_code == 200
        body = r.json()
        assert [e["code"] for e in body["items"]] == ["C", "B"] and body["total"] == 3
        r = await client.get(f"{API}/estates", params={"q": "甲"}, headers=staff.headers)
        assert [e["name"] for e in r.json()["items"]] == ["甲苑"]

    async def test_unknown_sort_key_422(self, client, session):
        staff = await make_staff(session, estates=[await make_estate(session)])
        r = await client.get(f"{API}/estates", params={"sort": "password"}, headers=staff.headers)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/unknown-sort-key"


class TestGetEstate:
    async def test_anonymous_401(self, client, session):
        estate = await make_estate(session)
        assert (await client.get(f"{API}/estates/{estate.id}")).status_code == 401

    async def test_get_with_office_hours(self, client, session):
        estate = await make_estate(session, office_name="淇水春天管理處")
        staff = await make_staff(session, estates=[estate], roles=[Role.night_duty])
        r = await client.get(f"{API}/estates/{estate.id}", headers=staff.headers)
        assert r.status_code == 200
        body = r.json()
        assert body["office_name"] == "淇水春天管理處"
        assert (body["morning_open"], body["afternoon_close"]) == ("08:00", "18:00")

    async def test_other_estate_404(self, client, session):
        company = await make_company(session)
        mine, other = await make_estate(session, company=company), await make_estate(session, company=company)
        staff = await make_staff(session, estates=[mine], roles=[Role.admin])
        r = await client.get(f"{API}/estates/{other.id}", headers=staff.headers)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/estate-not-found"

    async def test_malformed_id_422(self, client, session):
        staff = await make_staff(session, estates=[await make_estate(session)])
        assert_422(await client.get(f"{API}/estates/not-a-uuid", headers=staff.headers), "estate_id")


NEW = {"name": "祥瑞花園", "office_name": "祥瑞物業", "code": "XR", "time_zone": "Asia/Urumqi"}


class TestCreateEstate:
    async def test_anonymous_401(self, client):
        assert (await client.post(f"{API}/estates", json=NEW)).status_code == 401

    async def test_supervisor_403(self, client, session):
        staff = await make_staff(session, estates=[await make_estate(session)], roles=[Role.supervisor])
        r = await client.post(f"{API}/estates", json=NEW, headers=staff.headers)
        assert r.status_code == 403
        assert await _count(session, Estate) == 1

    async def test_admin_creates_and_is_assigned(self, client, session):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        r = await client.post(f"{API}/estates", json={**NEW, "afternoon_open": "13:30"}, headers=admin.headers)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["company_id"] == str(estate.company_id)
        assert (body["time_zone"], body["afternoon_open"], body["morning_open"]) == ("Asia/Urumqi", "13:30", "08:00")
        assert await _count(session, UserEstate, UserEstate.user_id == admin.id, UserEstate.estate_id == body["id"]) == 1
        listed = await client.get(f"{API}/estates", headers=admin.headers)
        assert body["id"] in {e["id"] for e in listed.json()["items"]}
        assert await _count(session, AuditEntry, AuditEntry.entity == "estate", AuditEntry.action == "create") == 1

    async def test_bad_input_422_and_nothing_written(self, client, session):
        admin = await make_staff(session, estates=[await make_estate(session)], roles=[Role.admin])
        bad = [
            {**NEW, "time_zone": "Mars/Olympus"},
            {**NEW, "time_zone": "../../etc/passwd"},
            {**NEW, "name": ""},
            {**NEW, "name": "x\x00y"},
            {**NEW, "code": "x" * 41},
            {**NEW, "morning_open": "25:00"},
            {**NEW, "morning_open": "08:00+08:00"},
            {k: v for k, v in NEW.items() if k != "office_name"},
        ]
        for body in bad:
            r = await client.post(f"{API}/estates", json=body, headers=admin.headers)
            assert r.status_code == 422, (body, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        r = await client.post(f"{API}/estates", json={**NEW, "morning_close": "15:00"}, headers=admin.headers)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/office-hours-out-of-order"
        assert await _count(session, Estate) == 1

    async def test_code_taken_409(self, client, session):
        estate = await make_estate(session, code="QS")
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        r = await client.post(f"{API}/estates", json={**NEW, "code": "qs"}, headers=admin.headers)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/estate-code-taken"
        assert await _count(session, Estate) == 1


class TestUpdateEstate:
    async def test_anonymous_401(self, client, session):
        estate = await make_estate(session)
        assert (await client.patch(f"{API}/estates/{estate.id}", json={"name": "x"})).status_code == 401

    async def test_receptionist_403(self, client, session):
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate])
        assert (await client.patch(f"{API}/estates/{estate.id}", json={"name": "x"}, headers=staff.headers)).status_code == 403

    async def test_other_estate_404(self, client, session):
        company = await make_company(session)
        mine, other = await make_estate(session, company=company), await make_estate(session, company=company)
        admin = await make_staff(session, estates=[mine], roles=[Role.admin])
        r = await client.patch(f"{API}/estates/{other.id}", json={"name": "x"}, headers=admin.headers)
        assert r.status_code == 404

    async def test_update(self, client, session):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        change = {"office_name": "淇水春天管理處", "time_zone": "Asia/Hong_Kong", "morning_open": "07:50", "afternoon_close": "17:30"}
        r = await client.patch(f"{API}/estates/{estate.id}", json=change, headers=admin.headers)
        assert r.status_code == 200, r.text
        got = (await client.get(f"{API}/estates/{estate.id}", headers=admin.headers)).json()
        assert (got["time_zone"], got["morning_open"], got["afternoon_close"]) == ("Asia/Hong_Kong", "07:50", "17:30")
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.entity == "estate"))).scalar_one()
        assert entry.before["time_zone"] == "Asia/Shanghai" and entry.after["time_zone"] == "Asia/Hong_Kong"

    async def test_bad_input_422_nothing_written(self, client, session):
        estate = await make_estate(session, time_zone="Asia/Shanghai")
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        refusals = iter([("validation-failed", "time_zone"), ("validation-failed", "name"), ("validation-failed", "code"),
                         ("office-hours-out-of-order",), ("office-hours-out-of-order",)])
        for body in ({"time_zone": "Nowhere/Land"}, {"name": None}, {"code": ""}, {"afternoon_close": "11:00"},
                     {"name": "新名", "morning_close": "07:00"}):
            r = await client.patch(f"{API}/estates/{estate.id}", json=body, headers=admin.headers)
            assert r.status_code == 422, (body, r.text)
            assert_invalid(r, *next(refusals))
        got = (await client.get(f"{API}/estates/{estate.id}", headers=admin.headers)).json()
        assert got["time_zone"] == "Asia/Shanghai" and got["name"] == estate.name
        assert await _count(session, AuditEntry) == 0


class TestCloseEstate:
    """Closing keeps everything and refuses anything new, wherever it is written from."""

    async def test_anonymous_401(self, client, session):
        estate = await make_estate(session)
        assert (await client.post(f"{API}/estates/{estate.id}/close", json={"reason": "x"})).status_code == 401

    async def test_supervisor_403_and_still_open(self, client, session):
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        r = await client.post(f"{API}/estates/{estate.id}/close", json={"reason": "合同到期"}, headers=staff.headers)
        assert r.status_code == 403
        assert (await session.execute(select(Estate.closed_at).where(Estate.id == estate.id))).scalar_one() is None

    async def test_other_estate_404(self, client, session):
        company = await make_company(session)
        mine, other = await make_estate(session, company=company), await make_estate(session, company=company)
        admin = await make_staff(session, estates=[mine], roles=[Role.admin])
        r = await client.post(f"{API}/estates/{other.id}/close", json={"reason": "合同到期"}, headers=admin.headers)
        assert r.status_code == 404 and r.json()["type"] == "/problems/estate-not-found"

    async def test_reason_required_422(self, client, session):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        for body in ({}, {"reason": ""}, {"reason": "x" * 501}):
            r = await client.post(f"{API}/estates/{estate.id}/close", json=body, headers=admin.headers)
            assert r.status_code == 422, r.text
            assert [e["field"] for e in r.json()["errors"]] == ["reason"]
        assert await _count(session, AuditEntry) == 0

    async def test_close_is_audited_and_once(self, client, session):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        r = await client.post(f"{API}/estates/{estate.id}/close", json={"reason": "物业合同到期"}, headers=admin.headers)
        assert r.status_code == 200, r.text
        assert r.json()["closed_at"] is not None and r.json()["closed_reason"] == "物业合同到期"
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "close"))).scalar_one()
        assert (entry.entity, entry.estate_id, entry.before["closed_at"]) == ("estate", estate.id, None)
        assert entry.after["closed_reason"] == "物业合同到期"
        again = await client.post(f"{API}/estates/{estate.id}/close", json={"reason": "again"}, headers=admin.headers)
        assert again.status_code == 409 and again.json()["type"] == "/problems/estate-closed"
        assert await _count(session, AuditEntry, AuditEntry.action == "close") == 1

    async def test_writes_409_reads_and_reports_200(self, client, session):
        from decimal import Decimal

        from app.domain.fees.model import Charge, FeeKind
        from app.domain.registry.model import Building, Unit
        from app.domain.repairs.model import ServiceRequest
        from tests.fees_factories import make_charge, make_fee_item
        from tests.registry_factories import make_building, make_unit

        estate = await make_estate(session)
        building = await make_building(session, estate=estate, number=8)
        unit = await make_unit(session, building=building, number="301")
        deposit = await make_fee_item(session, estate=estate, code="deposit", kind=FeeKind.one_off, applies_to_all=False)
        await make_charge(session, unit=unit, item=deposit, amount="100.00", period="2026-01")
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        r = await client.post(f"{API}/estates/{estate.id}/close", json={"reason": "合同到期"}, headers=admin.headers)
        assert r.status_code == 200, r.text

        writes = [
            (admin, f"/estates/{estate.id}/buildings", {"name": "9号楼", "number": 9}),
            (admin, f"/estates/{estate.id}/units", {"building_id": str(building.id), "number": "302", "area": "89.20"}),
            (admin, f"/estates/{estate.id}/owners", {"full_name": "王建國", "title": "先生"}),
            (admin, f"/units/{unit.id}/charges", {"fee_item_id": str(deposit.id), "amount": "50.00", "description": "押金"}),
            (desk, f"/estates/{estate.id}/service-requests",
             {"channel": "phone", "category": "plumbing", "description": "水龍頭漏水", "unit_id": str(unit.id)}),
            (desk, f"/units/{unit.id}/payments", {"amount": "100.00", "method": "cash", "settle": "oldest_first"}),
        ]
        for staff, path, body in writes:
            headers = {**staff.headers, "Idempotency-Key": f"k-{path}"}
            r = await client.post(f"{API}{path}", json=body, headers=headers)
            assert r.status_code == 409, (path, r.text)
            assert r.json()["type"] == "/problems/estate-closed", (path, r.text)
        assert await _count(session, Building, Building.estate_id == estate.id) == 1
        assert await _count(session, Unit, Unit.estate_id == estate.id) == 1
        assert await _count(session, Charge, Charge.estate_id == estate.id) == 1
        assert await _count(session, ServiceRequest) == 0
        charge = (await session.execute(select(Charge.amount_paid).where(Charge.estate_id == estate.id))).scalar_one()
        assert charge == Decimal("0.00")

        for path in (f"/estates/{estate.id}", f"/estates/{estate.id}/buildings", f"/estates/{estate.id}/units",
                     f"/estates/{estate.id}/charges", f"/units/{unit.id}/charges", "/estates"):
            r = await client.get(f"{API}{path}", headers=admin.headers)
            assert r.status_code == 200, (path, r.text)
        listed = (await client.get(f"{API}/estates", headers=admin.headers)).json()["items"]
        assert listed[0]["closed_reason"] == "合同到期"
        # Changing what exists (here the estate's own details) is still allowed: history is not frozen.
        r = await client.patch(f"{API}/estates/{estate.id}", json={"office_name": "淇水春天管理處（已撤场）"}, headers=admin.headers)
        assert r.status_code == 200, r.text

    async def test_todays_cash_drawer_is_not_opened_in_a_closed_estate(self, app, client, session):
        # GET .../cashier-sessions/current opens the day's session on first use: a write behind
        # a read, refused like any other write, and said so in OpenAPI.
        from app.domain.fees.cash.model import CashierSession

        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        assert (await client.post(f"{API}/estates/{estate.id}/close", json={"reason": "x"}, headers=admin.headers)).status_code == 200
        r = await client.get(f"{API}/estates/{estate.id}/cashier-sessions/current", headers=desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/estate-closed", r.text
        assert await _count(session, CashierSession, CashierSession.estate_id == estate.id) == 0
        documented = app.openapi()["paths"]["/api/v1/estates/{estate_id}/cashier-sessions/current"]["get"]["responses"]
        assert "409" in documented

    async def test_other_estates_unaffected(self, client, session):
        company = await make_company(session)
        closed, open_ = await make_estate(session, company=company), await make_estate(session, company=company)
        admin = await make_staff(session, estates=[closed, open_], roles=[Role.admin])
        assert (await client.post(f"{API}/estates/{closed.id}/close", json={"reason": "x"}, headers=admin.headers)).status_code == 200
        r = await client.post(f"{API}/estates/{open_.id}/buildings", json={"name": "1号楼", "number": 1}, headers=admin.headers)
        assert r.status_code == 201, r.text

    async def test_documented_on_writes(self, app):
        schema = app.openapi()
        assert "EstateClosed" in schema["paths"]["/api/v1/units/{unit_id}/payments"]["post"]["responses"]["409"]["description"]
        assert "409" not in schema["paths"]["/api/v1/estates/{estate_id}"]["get"]["responses"]
        assert "EstateClosed" in schema["paths"]["/api/v1/estates/{estate_id}/close"]["post"]["responses"]["409"]["description"]


async def test_reading_a_closed_estates_repair_categories_seeds_nothing(client, session):
    """Found by the stateful run: the first read of the categories seeds the defaults, a write."""
    estate = await make_estate(session)
    admin = await make_staff(session, estates=[estate], roles=[Role.admin])
    assert (await client.post(f"{API}/estates/{estate.id}/close", json={"reason": "x"}, headers=admin.headers)).status_code == 200
    r = await client.get(f"{API}/estates/{estate.id}/repair-categories", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []
