"""Meter readings: the metered charge at once, previous from the last reading, one reading a period."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, FeeKind, MeterReading
from tests.factories import make_staff
from tests.fees_factories import make_fee_item
from tests.helpers.problems import assert_invalid
from tests.registry_factories import count_rows, make_building, make_unit, two_estates

API = "/api/v1"


async def metered_estate(session):
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate))
    water = await make_fee_item(session, estate=estate, code="water", name="水费", kind=FeeKind.metered, applies_to_all=False,
                                price="3.45", effective_from=date(2026, 1, 1), due_day=20)
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    return estate, other, unit, water, desk


def reading(unit, item, **kw) -> dict:
    return {"unit_id": str(unit.id), "fee_item_id": str(item.id), "period": "2026-10", "current": "1218.7", "previous": "1200.5", **kw}


class TestMeterReadingPermissions:
    async def test_anonymous_403_other_estate(self, client, session):
        estate, other, unit, water, _ = await metered_estate(session)
        url = f"{API}/estates/{estate.id}/meter-readings"
        assert (await client.post(url, json=reading(unit, water))).status_code == 401
        for role in (Role.manager, Role.supervisor, Role.technician, Role.night_duty):
            staff = await make_staff(session, estates=[estate], roles=[role])
            assert (await client.post(url, json=reading(unit, water), headers=staff.headers)).status_code == 403, role
        outsider = await make_staff(session, estates=[other], roles=[Role.receptionist])
        assert (await client.post(url, json=reading(unit, water), headers=outsider.headers)).status_code == 404
        # Their own estate, our unit and item: no such unit there.
        r = await client.post(f"{API}/estates/{other.id}/meter-readings", json=reading(unit, water), headers=outsider.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/meter-unit-not-in-estate"
        assert await count_rows(session, MeterReading) == 0 and await count_rows(session, Charge) == 0


class TestMeterReadings:
    async def test_reading_creates_the_charge(self, client, session):
        estate, _, unit, water, desk = await metered_estate(session)
        r = await client.post(f"{API}/estates/{estate.id}/meter-readings", json=reading(unit, water), headers=desk.headers)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (Decimal(body["quantity"]), body["read_by"]) == (Decimal("18.2"), str(desk.id))
        charge = body["charge"]
        # 18.2 m³ × 3.45 = 62.79
        assert (charge["amount"], charge["outstanding"], charge["period"], charge["source"]) == ("62.79", "62.79", "2026-10", "meter")
        assert charge["basis"] == {"rate": "3.45", "previous": "1200.50", "current": "1218.70", "quantity": "18.20"}
        assert charge["description"] == "2026年10月水费"
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "meter_reading") == 1

    async def test_previous_defaults_to_the_last_reading(self, client, session):
        estate, _, unit, water, desk = await metered_estate(session)
        url = f"{API}/estates/{estate.id}/meter-readings"
        assert (await client.post(url, json=reading(unit, water), headers=desk.headers)).status_code == 201
        body = reading(unit, water, period="2026-11", current="1230.7")
        del body["previous"]
        r = await client.post(url, json=body, headers=desk.headers)
        assert r.status_code == 201, r.text
        assert (r.json()["previous"], r.json()["charge"]["amount"]) == ("1218.70", "41.40")  # 12 × 3.45

    async def test_first_reading_needs_previous(self, client, session):
        estate, _, unit, water, desk = await metered_estate(session)
        body = reading(unit, water)
        del body["previous"]
        r = await client.post(f"{API}/estates/{estate.id}/meter-readings", json=body, headers=desk.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/previous-reading-needed"
        assert await count_rows(session, MeterReading) == 0

    async def test_second_reading_of_a_period_409(self, client, session):
        estate, _, unit, water, desk = await metered_estate(session)
        url = f"{API}/estates/{estate.id}/meter-readings"
        assert (await client.post(url, json=reading(unit, water), headers=desk.headers)).status_code == 201
        r = await client.post(url, json=reading(unit, water, current="1300"), headers=desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/reading-already-taken"
        assert await count_rows(session, MeterReading) == 1 and await count_rows(session, Charge) == 1

    async def test_nothing_used_no_charge(self, client, session):
        estate, _, unit, water, desk = await metered_estate(session)
        r = await client.post(f"{API}/estates/{estate.id}/meter-readings", json=reading(unit, water, current="1200.5"),
                              headers=desk.headers)
        assert r.status_code == 201 and r.json()["charge"] is None
        assert await count_rows(session, Charge) == 0

    async def test_price_of_the_period(self, client, session):
        estate, _, unit, water, desk = await metered_estate(session)
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        r = await client.post(f"{API}/fee-items/{water.id}/prices", json={"unit_price": "4", "effective_from": "2026-11-01"},
                              headers=finance.headers)
        assert r.status_code == 201
        url = f"{API}/estates/{estate.id}/meter-readings"
        assert (await client.post(url, json=reading(unit, water), headers=desk.headers)).json()["charge"]["amount"] == "62.79"
        r = await client.post(url, json=reading(unit, water, period="2026-11", previous="1218.7", current="1228.7"), headers=desk.headers)
        assert r.json()["charge"]["amount"] == "40.00"
        # October is billed now: a price from October would rewrite it.
        r = await client.post(f"{API}/fee-items/{water.id}/prices", json={"unit_price": "5", "effective_from": "2026-10-15"},
                              headers=finance.headers)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/price-would-rewrite-billed-charges"

    async def test_bad_input_422_nothing_written(self, client, session):
        estate, other, unit, water, desk = await metered_estate(session)
        mgmt = await make_fee_item(session, estate=estate, code="mgmt")
        their_unit = await make_unit(session, building=await make_building(session, estate=other))
        url = f"{API}/estates/{estate.id}/meter-readings"
        bad = [
            reading(unit, water, current="1100"), reading(unit, water, current="1.005"), reading(unit, water, current="-1"),
            reading(unit, water, current="NaN"), reading(unit, water, current=1.005), reading(unit, water, period="2026-13"),
            reading(unit, water, unit_id="nope"), reading(unit, water, extra=1), reading(unit, mgmt), reading(their_unit, water),
            reading(unit, water, period="2019-01"),  # no price in force yet
        ]
        refusals = iter([("reading-below-previous", "current"), ("validation-failed", "current"),
                         ("validation-failed", "current"), ("validation-failed", "current"), ("validation-failed", "current"),
                         ("validation-failed", "period"), ("validation-failed", "unit_id"), ("validation-failed", "extra"),
                         ("not-a-metered-item", "fee_item_id"), ("meter-unit-not-in-estate", "unit_id"),
                         ("no-price-in-force", "period")])
        for body in bad:
            r = await client.post(url, json=body, headers=desk.headers)
            assert r.status_code == 422, (body, r.text)
            assert_invalid(r, *next(refusals))
        assert await count_rows(session, MeterReading) == 0 and await count_rows(session, Charge) == 0
        assert (await session.execute(select(AuditEntry).where(AuditEntry.entity == "meter_reading"))).first() is None
