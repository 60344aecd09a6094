"""Arrears by age: GET /units/{unit_id}/arrears, GET /estates/{estate_id}/arrears, and the caller lookup."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.domain.auth.roles import Role
from app.domain.fees.model import ChargeSource, FeeItem
from app.domain.fees.statements import arrears
from app.domain.registry.model import Building, Estate, Title, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.problems import assert_422
from tests.registry_factories import make_building, make_owner, make_unit, two_estates

API = "/api/v1"
# 01:00 on 2026-04-01 in Shanghai, still 2026-03-31 in UTC: ages count to the estate's day.
NOW = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
# Due dates and amounts: each bucket boundary once, amounts powers of two so every sum is unique.
BOUNDARIES = [
    (date(2026, 4, 1), "1.00"),  # 0 days: due today
    (date(2026, 3, 2), "2.00"),  # 30 days
    (date(2026, 3, 1), "4.00"),  # 31 days
    (date(2026, 1, 1), "8.00"),  # 90 days
    (date(2025, 12, 31), "16.00"),  # 91 days
    (date(2025, 4, 1), "32.00"),  # 365 days
    (date(2025, 3, 31), "64.00"),  # 366 days
    (date(2026, 4, 2), "128.00"),  # due tomorrow: not arrears
]


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)


@dataclass
class Ledger:
    estate: Estate
    other: Estate
    b8: Building
    b9: Building
    aged: Unit  # 8-2-301: one charge on every boundary
    partly: Unit  # 9-1-502: 60.00 left of 100.00, and a charge paid in full
    paid: Unit  # 8-1-101: everything paid
    item: FeeItem
    desk: Staff


async def one_off(session, *, unit: Unit, item: FeeItem, amount: str, due: date, paid: str = "0.00"):
    return await make_charge(session, unit=unit, item=item, amount=amount, period=None, due_date=due, paid=paid,
                             source=ChargeSource.manual)


async def ledger(session) -> Ledger:
    estate, other = await two_estates(session)
    b8, b9 = await make_building(session, estate=estate, number=8), await make_building(session, estate=estate, number=9)
    aged = await make_unit(session, building=b8, entrance="2", number="301")
    partly = await make_unit(session, building=b9, entrance="1", number="502")
    paid = await make_unit(session, building=b8, entrance="1", number="101")
    item = await make_fee_item(session, estate=estate)
    for due, amount in BOUNDARIES:
        await one_off(session, unit=aged, item=item, amount=amount, due=due)
    await one_off(session, unit=partly, item=item, amount="100.00", due=date(2026, 3, 20), paid="40.00")
    await one_off(session, unit=partly, item=item, amount="50.00", due=date(2025, 1, 1), paid="50.00")
    await one_off(session, unit=paid, item=item, amount="200.00", due=date(2024, 1, 1), paid="200.00")
    await make_owner(session, estate=estate, full_name="李秀英", title=Title.ms, units=[aged], is_primary=False)
    await make_owner(session, estate=estate, full_name="王建國", title=Title.mr, phones=["133 5173 7459"], units=[aged, partly])
    stranger = await make_unit(session, building=await make_building(session, estate=other, number=8))
    await one_off(session, unit=stranger, item=await make_fee_item(session, estate=other), amount="999.00", due=date(2025, 1, 1))
    desk = await make_staff(session, estates=[estate])
    return Ledger(estate=estate, other=other, b8=b8, b9=b9, aged=aged, partly=partly, paid=paid, item=item, desk=desk)


def buckets(line: dict) -> tuple[str, ...]:
    return tuple(line[k] for k in (*arrears.BUCKETS, "total"))


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        d = await ledger(session)
        assert (await client.get(f"{API}/units/{d.aged.id}/arrears")).status_code == 401
        assert (await client.get(f"{API}/estates/{d.estate.id}/arrears")).status_code == 401

    @pytest.mark.parametrize("role", [Role.technician, Role.agency])
    async def test_roles_without_fees_403(self, client, session, role):
        d = await ledger(session)
        staff = await make_staff(session, estates=[d.estate], roles=[role])
        assert (await client.get(f"{API}/units/{d.aged.id}/arrears", headers=staff.headers)).status_code == 403
        assert (await client.get(f"{API}/estates/{d.estate.id}/arrears", headers=staff.headers)).status_code == 403

    async def test_other_estate_404(self, client, session):
        d = await ledger(session)
        stranger = await make_staff(session, estates=[d.other], roles=[Role.finance])
        for url in (f"/units/{d.aged.id}/arrears", f"/estates/{d.estate.id}/arrears"):
            r = await client.get(API + url, headers=stranger.headers)
            assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json"), url

    @pytest.mark.parametrize("params", [{"min_age_days": "-1"}, {"min_age_days": "x"}, {"building_id": "8号楼"},
                                        {"sort": "owner"}, {"sort": "days_0_30"}, {"sort": "total;drop"}, {"limit": "0"}, {"limit": "201"}])
    async def test_bad_input_422(self, client, session, params):
        d = await ledger(session)
        r = await client.get(f"{API}/estates/{d.estate.id}/arrears", params=params, headers=d.desk.headers)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), params
        assert_422(r, next(iter(params)))

    async def test_unknown_unit_or_estate_404(self, client, session):
        d = await ledger(session)
        assert (await client.get(f"{API}/units/{uuid.uuid4()}/arrears", headers=d.desk.headers)).status_code == 404
        assert (await client.get(f"{API}/estates/{uuid.uuid4()}/arrears", headers=d.desk.headers)).status_code == 404


class TestUnitArrears:
    async def test_bucket_boundaries_in_the_estates_time_zone(self, client, session):
        d = await ledger(session)
        r = await client.get(f"{API}/units/{d.aged.id}/arrears", headers=d.desk.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        # 0–30: 1 + 2; 31–90: 4 + 8; 91–365: 16 + 32; over 365: 64; due tomorrow: nothing.
        assert buckets(body) == ("3.00", "12.00", "48.00", "64.00", "127.00")
        assert (body["unit_label"], body["oldest_due_date"], body["owner_names"]) == ("8号楼2单元301", "2025-03-31", ["王建國", "李秀英"])

    async def test_the_same_charges_in_a_utc_estate_are_a_day_younger(self, client, session):
        d = await ledger(session)
        d.estate.time_zone = "UTC"
        session.add(d.estate)
        await session.commit()
        body = (await client.get(f"{API}/units/{d.aged.id}/arrears", headers=d.desk.headers)).json()
        # Today is 2026-03-31: 04-01 not yet due; 03-01 is 30 days, 12-31 90 days, 2025-03-31 365 days.
        assert buckets(body) == ("6.00", "24.00", "96.00", "0.00", "126.00")

    async def test_paid_excluded_partly_paid_remainder_included(self, client, session):
        d = await ledger(session)
        partly = (await client.get(f"{API}/units/{d.partly.id}/arrears", headers=d.desk.headers)).json()
        assert buckets(partly) == ("60.00", "0.00", "0.00", "0.00", "60.00") and partly["oldest_due_date"] == "2026-03-20"
        paid = (await client.get(f"{API}/units/{d.paid.id}/arrears", headers=d.desk.headers)).json()
        assert buckets(paid) == ("0.00",) * 5 and paid["oldest_due_date"] is None and paid["owner_names"] == []


class TestEstateArrears:
    async def test_lines_largest_first_and_totals(self, client, session):
        d = await ledger(session)
        r = await client.get(f"{API}/estates/{d.estate.id}/arrears", headers=d.desk.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["as_of"] == "2026-04-01" and body["total"] == 2
        assert [(i["unit_label"], i["total"]) for i in body["items"]] == [("8号楼2单元301", "127.00"), ("9号楼1单元502", "60.00")]
        assert body["items"][1]["owner_names"] == ["王建國"] and body["items"][1]["building_name"] == "9号楼"
        assert body["totals"] == {"days_0_30": "63.00", "days_31_90": "12.00", "days_91_365": "48.00",
                                  "days_over_365": "64.00", "total": "187.00", "units": 2}
        assert "999.00" not in r.text

    async def test_filters_by_building_and_minimum_age(self, client, session):
        d = await ledger(session)
        url = f"{API}/estates/{d.estate.id}/arrears"

        async def labels(**params):
            body = (await client.get(url, params=params, headers=d.desk.headers)).json()
            return [i["unit_label"] for i in body["items"]], body["totals"]["total"]

        assert await labels(building_id=str(d.b9.id)) == (["9号楼1单元502"], "60.00")
        assert await labels(min_age_days=12) == (["8号楼2单元301", "9号楼1单元502"], "187.00")
        assert await labels(min_age_days=13) == (["8号楼2单元301"], "127.00")
        assert await labels(min_age_days=366) == (["8号楼2单元301"], "127.00")
        assert await labels(min_age_days=367) == ([], "0.00")
        assert await labels(building_id=str(uuid.uuid4())) == ([], "0.00")

    async def test_pages_and_sorts(self, client, session):
        d = await ledger(session)
        url = f"{API}/estates/{d.estate.id}/arrears"
        page = (await client.get(url, params={"limit": 1, "offset": 1}, headers=d.desk.headers)).json()
        assert [i["unit_label"] for i in page["items"]] == ["9号楼1单元502"]
        assert (page["total"], page["limit"], page["offset"], page["totals"]["total"]) == (2, 1, 1, "187.00")
        for sort, expected in [("total", ["9号楼1单元502", "8号楼2单元301"]), ("-unit", ["9号楼1单元502", "8号楼2单元301"]),
                               ("oldest_due_date", ["8号楼2单元301", "9号楼1单元502"]), ("unit", ["8号楼2单元301", "9号楼1单元502"])]:
            body = (await client.get(url, params={"sort": sort}, headers=d.desk.headers)).json()
            assert [i["unit_label"] for i in body["items"]] == expected, sort

    async def test_five_thousand_units_add_up(self, client, session):
        """Totals over a large estate in one grouped query (its speed is a benchmark's business, not a test's)."""
        d = await ledger(session)
        params = {"estate": d.estate.id, "building": d.b8.id, "item": d.item.id}
        await session.execute(text(
            "INSERT INTO unit (id, created_at, estate_id, building_id, entrance, number, area, is_public, is_vacant, note) "
            "SELECT gen_random_uuid(), now(), :estate, :building, '9', 'B' || n, 80.00, false, false, '' "
            "FROM generate_series(1, 5000) AS n"), params)
        await session.execute(text(
            "INSERT INTO charge (id, created_at, estate_id, unit_id, fee_item_id, period, description, amount, amount_paid, "
            "due_date, basis, source) "
            "SELECT gen_random_uuid(), now(), :estate, u.id, :item, to_char(date '2024-01-01' + m * interval '1 month', 'YYYY-MM'), "
            "'fee', 200.00, CASE WHEN m % 3 = 0 THEN 200.00 ELSE 0 END, date '2024-01-01' + m * interval '1 month', '{}', 'billing' "
            "FROM unit u CROSS JOIN generate_series(0, 26) AS m WHERE u.number LIKE 'B%'"), params)
        await session.commit()
        await session.execute(text("ANALYZE charge"))
        r = await client.get(f"{API}/estates/{d.estate.id}/arrears", params={"limit": 200}, headers=d.desk.headers)
        assert r.status_code == 200 and r.json()["total"] == 5002
        # 18 of 27 months unpaid at 200.00 for each of the 5,000 units, plus the two units above.
        assert Decimal(r.json()["totals"]["total"]) == Decimal("18000000.00") + Decimal("187.00")


class TestCallerLookup:
    async def test_shows_arrears_per_owner(self, client, session):
        d = await ledger(session)
        r = await client.get(f"{API}/estates/{d.estate.id}/callers", params={"phone": "13351737459"}, headers=d.desk.headers)
        assert r.status_code == 200, r.text
        [owner] = r.json()["owners"]
        assert owner["arrears"] == {
            "total": "187.00", "oldest_due_date": "2025-03-31",
            "units": [{"unit_id": str(d.aged.id), "label": "8号楼2单元301", "outstanding": "127.00", "oldest_due_date": "2025-03-31"},
                      {"unit_id": str(d.partly.id), "label": "9号楼1单元502", "outstanding": "60.00", "oldest_due_date": "2026-03-20"}],
        }

    async def test_nothing_owed_is_zero(self, client, session):
        d = await ledger(session)
        await make_owner(session, estate=d.estate, full_name="趙六", phones=["13800000001"], units=[d.paid])
        r = await client.get(f"{API}/callers", params={"phone": "13800000001"}, headers=d.desk.headers)
        [owner] = r.json()["owners"]
        assert owner["arrears"] == {"total": "0.00", "oldest_due_date": None, "units": []}

    async def test_roles_without_fees_see_no_arrears(self, client, session):
        d = await ledger(session)
        tech = await make_staff(session, estates=[d.estate], roles=[Role.technician])
        r = await client.get(f"{API}/callers", params={"phone": "13351737459"}, headers=tech.headers)
        assert r.status_code == 200 and r.json()["owners"][0]["arrears"] is None
