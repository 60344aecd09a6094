"""Readable numbers of service requests (QS-BX-2026-000045) and work orders (QS-WX-2026-000123):
given in order, gapless under concurrent registrations, counted per year in the estate's zone,
and found in the lists by the whole number or its trailing digits, within the estate."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.fees.payments.model import DocumentCounter
from app.domain.registry.model import Title
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from tests.factories import Staff, make_estate, make_staff
from tests.helpers.problems import assert_422, assert_invalid
from tests.registry_factories import make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
CONCURRENT = 24


@pytest.fixture
async def desk(session):
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8, name="8号楼"),
                           entrance="2", number="301")
    return {"estate": estate, "other": other, "unit": unit, "staff": await make_staff(session, estates=[estate]),
            "theirs": await make_staff(session, estates=[other])}


def repair(**kw) -> dict:
    return {"channel": "walk_in", "category": "plumbing", "description": "水龍頭漏水", "location": "8号楼电梯厅", **kw}


async def register(client: httpx.AsyncClient, estate, staff: Staff, **kw) -> dict:
    r = await client.post(f"{API}/estates/{estate.id}/service-requests", json=repair(**kw), headers=staff.headers)
    assert r.status_code == 201, r.text
    return r.json()


def seq(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


async def orders(client, estate, staff, **params) -> list[dict]:
    r = await client.get(f"{API}/estates/{estate.id}/work-orders", params=params, headers=staff.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def requests(client, estate, staff, **params) -> list[dict]:
    r = await client.get(f"{API}/estates/{estate.id}/service-requests", params=params, headers=staff.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


class TestAssigned:
    async def test_numbers_follow_on_in_order_and_show_on_the_order(self, client, desk):
        estate, staff = desk["estate"], desk["staff"]
        year = datetime.now(UTC).astimezone(ZoneInfo(estate.time_zone)).year
        made = [await register(client, estate, staff) for _ in range(3)]
        enquiry = await register(client, estate, staff, kind="enquiry", category=None)
        assert [m["number"] for m in made + [enquiry]] == [f"{estate.code}-BX-{year}-{n:06d}" for n in (1, 2, 3, 4)]
        assert [m["work_order_number"] for m in made] == [f"{estate.code}-WX-{year}-{n:06d}" for n in (1, 2, 3)]
        assert enquiry["work_order_number"] is None  # an enquiry has no order, and takes no order number
        order = (await client.get(f"{API}/work-orders/{made[0]['work_order_id']}", headers=staff.headers)).json()
        assert (order["number"], order["request_number"], order["request"]["number"]) == (
            made[0]["work_order_number"], made[0]["number"], made[0]["number"])
        sheet = (await client.get(f"{API}/work-orders/{made[0]['work_order_id']}/task-sheet", headers=staff.headers)).json()
        assert (sheet["number"], sheet["request_number"]) == (made[0]["work_order_number"], made[0]["number"])
        listed = await orders(client, estate, staff, sort="number")
        assert [o["number"] for o in listed] == [m["work_order_number"] for m in made]
        assert made[0]["read_back"].endswith(f"报修单号{made[0]['number']}。")

    async def test_each_estate_counts_its_own(self, client, desk):
        ours = await register(client, desk["estate"], desk["staff"])
        theirs = await register(client, desk["other"], desk["theirs"])
        assert seq(ours["number"]) == seq(theirs["number"]) == 1
        assert ours["number"] != theirs["number"]

    async def test_a_refused_registration_uses_no_number(self, client, session, desk):
        estate, staff = desk["estate"], desk["staff"]
        first = await register(client, estate, staff)
        r = await client.post(f"{API}/estates/{estate.id}/service-requests", json=repair(category="no_such_category"),
                              headers=staff.headers)
        assert_invalid(r, "unknown-repair-category", "category")
        assert seq((await register(client, estate, staff))["number"]) == seq(first["number"]) + 1


async def test_concurrent_registrations_get_gapless_distinct_numbers(app, session, desk):
    """Many desks at once, each its own client and so its own request session: no number twice, none skipped."""
    estate = desk["estate"]
    clerks = [await make_staff(session, estates=[estate]) for _ in range(4)]
    transport = httpx.ASGITransport(app=app)
    clients = [httpx.AsyncClient(transport=transport, base_url="http://test") for _ in clerks]
    try:
        made = await asyncio.gather(*[register(clients[i % len(clients)], estate, clerks[i % len(clerks)])
                                      for i in range(CONCURRENT)])
    finally:
        for c in clients:
            await c.aclose()
    for key in ("number", "work_order_number"):
        assert sorted(seq(m[key]) for m in made) == list(range(1, CONCURRENT + 1)), key
    stored = (await session.execute(select(func.count(func.distinct(WorkOrder.number))).where(
        WorkOrder.estate_id == estate.id))).scalar_one()
    assert stored == CONCURRENT
    counters = dict((await session.execute(select(DocumentCounter.series, DocumentCounter.last_seq).where(
        DocumentCounter.estate_id == estate.id))).all())
    assert counters == {"service_request": CONCURRENT, "work_order": CONCURRENT}


async def test_the_year_turns_at_midnight_in_the_estates_zone(client, session, time_machine):
    # 31 December 23:59 in Shanghai is still 2026; a minute past midnight there it is 2027 (and only 16:01 UTC).
    estate = await make_estate(session, time_zone="Asia/Shanghai")
    time_machine.move_to(datetime(2026, 12, 31, 15, 59, tzinfo=UTC), tick=False)
    staff = await make_staff(session, estates=[estate])
    await register(client, estate, staff)
    late = await register(client, estate, staff)
    time_machine.move_to(datetime(2026, 12, 31, 16, 1, tzinfo=UTC), tick=False)
    staff = await make_staff(session, estates=[estate])
    early = await register(client, estate, staff)
    assert late["number"] == f"{estate.code}-BX-2026-000002"
    assert late["work_order_number"] == f"{estate.code}-WX-2026-000002"
    assert early["number"] == f"{estate.code}-BX-2027-000001"
    assert early["work_order_number"] == f"{estate.code}-WX-2027-000001"
    # A zone behind UTC: 1 January 01:00 UTC is still 31 December in New York.
    west = await make_estate(session, time_zone="America/New_York")
    time_machine.move_to(datetime(2027, 1, 1, 1, 0, tzinfo=UTC), tick=False)
    assert (await register(client, west, await make_staff(session, estates=[west])))["number"] == f"{west.code}-BX-2026-000001"


class TestSearch:
    async def test_by_whole_number_and_by_trailing_digits(self, client, desk):
        estate, staff = desk["estate"], desk["staff"]
        made = [await register(client, estate, staff) for _ in range(12)]
        target = made[10]  # sequence 11: "1" must not find 11, nor "11" find 1
        for typed in (target["work_order_number"], target["work_order_number"].lower(), "11", "000011", "0011"):
            assert [o["id"] for o in await orders(client, estate, staff, number=typed)] == [target["work_order_id"]], typed
        for typed in (target["number"], "11", "000011"):
            assert [r["id"] for r in await requests(client, estate, staff, number=typed)] == [target["id"]], typed
        # The caller quotes the request's number: the order list finds its order by it too.
        assert [o["id"] for o in await orders(client, estate, staff, number=target["number"])] == [target["work_order_id"]]
        assert [o["number"] for o in await orders(client, estate, staff, number="1")] == [made[0]["work_order_number"]]
        assert await orders(client, estate, staff, number="999") == []

    async def test_another_estates_order_is_not_found_by_its_number(self, client, desk):
        ours = await register(client, desk["estate"], desk["staff"])
        theirs = await register(client, desk["other"], desk["theirs"])
        assert await orders(client, desk["estate"], desk["staff"], number=theirs["work_order_number"]) == []
        assert await requests(client, desk["estate"], desk["staff"], number=theirs["number"]) == []
        # Trailing digits find this estate's number 1, never the other's.
        assert [o["id"] for o in await orders(client, desk["estate"], desk["staff"], number="1")] == [ours["work_order_id"]]
        r = await client.get(f"{API}/estates/{desk['other'].id}/work-orders", params={"number": theirs["work_order_number"]},
                             headers=desk["staff"].headers)
        assert r.status_code == 404

    async def test_a_technician_finds_only_his_own_orders(self, client, session, desk):
        made = await register(client, desk["estate"], desk["staff"])
        tech = await make_staff(session, estates=[desk["estate"]], roles=[Role.technician])
        assert await orders(client, desk["estate"], tech, number=made["work_order_number"]) == []

    @pytest.mark.parametrize("typed", ["abc", "1234567", "QS-WX-26-000001", "QS-WX-2026-12", "-1", "QS-WX-2026-000001 OR 1=1",
                                       "١٢٣", "QS\x00-WX-2026-000001", "%"])
    async def test_unreadable_search_is_422_naming_the_field(self, client, session, desk, typed):
        await register(client, desk["estate"], desk["staff"])
        for path in ("work-orders", "service-requests"):
            r = await client.get(f"{API}/estates/{desk['estate'].id}/{path}", params={"number": typed},
                                 headers=desk["staff"].headers)
            assert_422(r, "number")
        assert (await session.execute(select(func.count()).select_from(ServiceRequest))).scalar_one() == 1


async def test_the_number_is_on_the_log_the_callbacks_and_the_queue(client, session, desk):
    estate, staff = desk["estate"], desk["staff"]
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")
    done = await make_order(session, estate=estate, unit=desk["unit"], technician=tech, status=WorkOrderStatus.completed,
                            completed_at=utcnow() - timedelta(days=8), with_callback=True)
    today = await register(client, estate, staff)
    log = (await client.get(f"{API}/estates/{estate.id}/repairs/daily-log", headers=staff.headers)).json()
    assert {(r["work_order_id"], r["number"], r["request_number"]) for r in log["rows"]} >= {
        (today["work_order_id"], today["work_order_number"], today["number"])}
    callbacks = (await client.get(f"{API}/estates/{estate.id}/callbacks", headers=staff.headers)).json()["items"]
    assert [(c["work_order_id"], c["work_order_number"]) for c in callbacks] == [(str(done.id), done.number)]
    queue = (await client.get(f"{API}/attention", headers=staff.headers)).json()["items"]
    assert {i["number"] for i in queue if i["kind"] == "callback_due"} == {done.number}


async def test_a_complaint_about_a_request_names_its_number(client, session, desk):
    made = await register(client, desk["estate"], desk["staff"])
    manager = await make_staff(session, estates=[desk["estate"]], roles=[Role.manager])
    r = await client.post(f"{API}/estates/{desk['estate'].id}/complaints", headers=manager.headers, json={
        "channel": "phone", "category": "repair_delay", "description": "三天了還沒人來修", "service_request_id": made["id"]})
    assert r.status_code == 201, r.text
    assert r.json()["service_request_number"] == made["number"]


async def test_the_caller_lookup_shows_the_numbers_of_open_requests(client, session, desk):
    await make_owner(session, estate=desk["estate"], full_name="王建國", title=Title.mr, phones=["133 5173 7459"],
                     units=[desk["unit"]])
    made = await register(client, desk["estate"], desk["staff"], contact_phone="13351737459", location="")
    r = await client.get(f"{API}/estates/{desk['estate'].id}/callers", params={"phone": "13351737459"},
                         headers=desk["staff"].headers)
    assert r.status_code == 200, r.text
    [owner] = r.json()["owners"]
    assert [(o["number"], o["work_order_number"]) for o in owner["open_requests"]] == [(made["number"], made["work_order_number"])]
