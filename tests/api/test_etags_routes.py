"""Every PATCH and PUT honours If-Match (issue 19): each route, with a valid change, refuses a
stale tag with 412 and writes nothing; and each declares If-Match, ETag, 412 and 428.

A case builds a record and names two valid bodies (a then b: b really changes it, so the row is
updated and its version moves) and where the record is read back. CASES must name every PATCH
and PUT of the OpenAPI document, so a new edit route without If-Match fails here.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from app.domain.auth.roles import Role
from tests.factories import Staff, make_staff
from tests.fakes.alipay import FakeAlipay
from tests.fakes.wechatpay import FakeWechatPay
from tests.fees_factories import make_fee_item
from tests.helpers.etags import assert_stale, if_match, version_of
from tests.registry_factories import make_building, make_jurisdiction, make_owner, make_unit, two_estates

API = "/api/v1"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    a: dict
    b: dict
    read: str  # where the record is read back: its GET (with the ETag), else a list showing it
    read_tagged: bool = True
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Desk:
    estate: object
    staff: Staff  # every role: reaches every route past its permission check


def _post(r):
    assert r.status_code == 201, r.text
    return r.json()


async def _owner(client, session, d):
    owner = await make_owner(session, estate=d.estate)
    return Case("PATCH", f"/owners/{owner.id}", {"note": "甲"}, {"note": "乙"}, f"/owners/{owner.id}")


async def _unit(client, session, d):
    unit = await make_unit(session, building=await make_building(session, estate=d.estate))
    return Case("PATCH", f"/units/{unit.id}", {"note": "甲"}, {"note": "乙"}, f"/units/{unit.id}")


async def _building(client, session, d):
    row = await make_building(session, estate=d.estate)
    return Case("PATCH", f"/buildings/{row.id}", {"name": "甲号楼"}, {"name": "乙号楼"}, f"/buildings/{row.id}")


async def _jurisdiction(client, session, d):
    row = await make_jurisdiction(session, estate=d.estate)
    return Case("PATCH", f"/jurisdictions/{row.id}", {"name": "東區"}, {"name": "西區"}, f"/jurisdictions/{row.id}")


async def _fee_item(client, session, d):
    item = await make_fee_item(session, estate=d.estate)
    return Case("PATCH", f"/fee-items/{item.id}", {"name": "管理費"}, {"name": "物業費"}, f"/fee-items/{item.id}")


async def _user(client, session, d):
    user = (await make_staff(session, estates=[d.estate])).user
    return Case("PATCH", f"/users/{user.id}", {"full_name": "張三"}, {"full_name": "李四"}, f"/users/{user.id}")


async def _estate(client, session, d):
    return Case("PATCH", f"/estates/{d.estate.id}", {"name": "淇水春天一期"}, {"name": "淇水春天二期"}, f"/estates/{d.estate.id}")


async def _company(client, session, d):
    return Case("PATCH", "/company", {"phone": "0571-88886666"}, {"phone": "0571-88887777"}, "/company")


async def _stock_item(client, session, d):
    item = _post(await client.post(f"{API}/estates/{d.estate.id}/stock-items", headers=d.staff.headers, json={
        "code": "PVC-20", "name": "PVC水管20mm", "unit": "米", "unit_cost": "6.50", "category": "material"}))
    return Case("PATCH", f"/stock-items/{item['id']}", {"name": "水管甲"}, {"name": "水管乙"}, f"/stock-items/{item['id']}")


async def _webhook(client, session, d):
    hook = _post(await client.post(f"{API}/estates/{d.estate.id}/webhooks", headers=d.staff.headers,
                                   json={"url": "https://erp.example.com/hooks/propdesk"}))
    return Case("PATCH", f"/webhooks/{hook['id']}", {"description": "甲"}, {"description": "乙"}, f"/webhooks/{hook['id']}")


async def _entrustment(client, session, d):
    unit = await make_unit(session, building=await make_building(session, estate=d.estate))
    owner = await make_owner(session, estate=d.estate, units=[unit])
    row = _post(await client.post(f"{API}/estates/{d.estate.id}/rental-entrustments", headers=d.staff.headers, json={
        "unit_id": str(unit.id), "owner_id": str(owner.id), "asking_rent": "3200.00", "bedrooms": 3, "living_rooms": 2,
        "bathrooms": 1, "furnishing": "full", "available_from": "2026-06-01", "contact_phone": "13900001111"}))
    path = f"/rental-entrustments/{row['id']}"
    return Case("PATCH", path, {"asking_rent": "3300.00"}, {"asking_rent": "3400.00"}, path)


async def _wechat_channel(client, session, d):
    creds = FakeWechatPay().credentials()  # valid keys; the fake server is not started
    path = f"/estates/{d.estate.id}/payment-channels/wechat"
    return Case("PUT", path, creds, {**creds, "mchid": "1900000110"}, path)


async def _alipay_channel(client, session, d):
    creds = FakeAlipay().credentials()  # valid keys; the fake gateway is not started
    path = f"/estates/{d.estate.id}/payment-channels/alipay"
    return Case("PUT", path, creds, {**creds, "seller_id": "2088000000000002"}, path)


async def _subscription(client, session, d):
    unit = await make_unit(session, building=await make_building(session, estate=d.estate))
    item = await make_fee_item(session, estate=d.estate, applies_to_all=False)
    return Case("PUT", f"/units/{unit.id}/fee-items/{item.id}", {"from_month": "2026-01"}, {"from_month": "2026-02"},
                f"/units/{unit.id}/fee-items", read_tagged=False)


async def _billing_period(client, session, d):
    unit = await make_unit(session, building=await make_building(session, estate=d.estate))
    path = f"/units/{unit.id}/billing-period"
    return Case("PUT", path, {"billed_from": "2026-01-05"}, {"billed_from": "2026-01-06"}, path)


async def _repair_category(client, session, d):
    return Case("PUT", f"/estates/{d.estate.id}/repair-categories/garden", {"name": "園林"}, {"name": "綠化"},
                f"/estates/{d.estate.id}/repair-categories", read_tagged=False)


async def _phone_script(client, session, d):
    return Case("PUT", f"/estates/{d.estate.id}/phone-scripts/greeting", {"text": "您好，{office_name}"}, {"text": "喂，{office_name}"},
                f"/estates/{d.estate.id}/phone-scripts", read_tagged=False)


async def _template(client, session, d):
    text = "{owner}：已收款{amount}元，收据{receipt_number}。"
    return Case("PUT", f"/estates/{d.estate.id}/notification-templates/payment.received", {"text": text}, {"text": "您好，" + text},
                f"/estates/{d.estate.id}/notification-templates", read_tagged=False)


async def _working_hours(client, session, d):
    tech = (await make_staff(session, estates=[d.estate], roles=[Role.technician])).user
    hours = {"morning_open": "08:00:00", "morning_close": "12:00:00", "afternoon_open": "13:00:00", "afternoon_close": "17:00:00"}
    path = f"/technicians/{tech.id}/working-hours?estate_id={d.estate.id}"
    return Case("PUT", path, hours, {**hours, "afternoon_close": "18:00:00"}, path)


async def _deadlines(client, session, d):
    windows = {"urgent": {"amount": 24, "unit": "hours"}, "high": {"amount": 3, "unit": "days"},
               "normal": {"amount": 7, "unit": "days"}, "low": {"amount": 15, "unit": "days"}}
    path = f"/estates/{d.estate.id}/complaint-deadlines"
    return Case("PUT", path, windows, {**windows, "low": {"amount": 20, "unit": "days"}}, path)


async def _duty_day(client, session, d):
    on = [{"user_id": str(d.staff.user.id), "note": "甲"}]
    return Case("PUT", f"/estates/{d.estate.id}/duty-roster/2027-01-01", {"assignments": on},
                {"assignments": [{**on[0], "note": "乙"}]},
                f"/estates/{d.estate.id}/duty-roster?date_from=2027-01-01&date_to=2027-01-01", read_tagged=False)


def _year(name: str) -> dict:
    return {"days": [{"day": "2027-01-01", "kind": "holiday", "name": name}]}


async def _holiday_year(client, session, d):
    return Case("PUT", "/holiday-calendar/2027", _year("元旦"), _year("新年"), "/holiday-calendar/2027")


async def _holiday_day(client, session, d):
    r = await client.put(f"{API}/holiday-calendar/2027", json=_year("元旦"), headers=d.staff.headers)
    assert r.status_code == 200, r.text
    # A day's tag is its year's: the year is read back.
    return Case("PATCH", "/holiday-calendar/days/2027-01-01", {"name": "新年"}, {"name": "元旦節"}, "/holiday-calendar/2027")


async def _stocktake_counts(client, session, d):
    item = _post(await client.post(f"{API}/estates/{d.estate.id}/stock-items", headers=d.staff.headers, json={
        "code": "PVC-25", "name": "PVC水管25mm", "unit": "米", "unit_cost": "7.50", "category": "material"}))
    count = _post(await client.post(f"{API}/estates/{d.estate.id}/stocktakes", json={"note": "盤存"}, headers=d.staff.headers))
    lines = [{"stock_item_id": item["id"], "counted_quantity": "1"}]
    return Case("PUT", f"/stocktakes/{count['id']}/counts", {"lines": lines}, {"lines": [{**lines[0], "counted_quantity": "2"}]},
                f"/stocktakes/{count['id']}")


# (method, OpenAPI path) -> the case that edits it.
CASES: dict[tuple[str, str], Callable[..., Awaitable[Case]]] = {
    ("PATCH", "/owners/{owner_id}"): _owner,
    ("PATCH", "/units/{unit_id}"): _unit,
    ("PATCH", "/buildings/{building_id}"): _building,
    ("PATCH", "/jurisdictions/{jurisdiction_id}"): _jurisdiction,
    ("PATCH", "/fee-items/{item_id}"): _fee_item,
    ("PATCH", "/users/{user_id}"): _user,
    ("PATCH", "/estates/{estate_id}"): _estate,
    ("PATCH", "/company"): _company,
    ("PATCH", "/stock-items/{item_id}"): _stock_item,
    ("PATCH", "/webhooks/{webhook_id}"): _webhook,
    ("PATCH", "/rental-entrustments/{entrustment_id}"): _entrustment,
    ("PUT", "/units/{unit_id}/fee-items/{item_id}"): _subscription,
    ("PUT", "/estates/{estate_id}/payment-channels/wechat"): _wechat_channel,
    ("PUT", "/estates/{estate_id}/payment-channels/alipay"): _alipay_channel,
    ("PUT", "/units/{unit_id}/billing-period"): _billing_period,
    ("PUT", "/estates/{estate_id}/repair-categories/{code}"): _repair_category,
    ("PUT", "/estates/{estate_id}/phone-scripts/{key}"): _phone_script,
    ("PUT", "/estates/{estate_id}/notification-templates/{event_type}"): _template,
    ("PUT", "/technicians/{user_id}/working-hours"): _working_hours,
    ("PUT", "/estates/{estate_id}/complaint-deadlines"): _deadlines,
    ("PUT", "/estates/{estate_id}/duty-roster/{day}"): _duty_day,
    ("PUT", "/holiday-calendar/{year}"): _holiday_year,
    ("PATCH", "/holiday-calendar/days/{day}"): _holiday_day,
    ("PUT", "/stocktakes/{stocktake_id}/counts"): _stocktake_counts,
}


async def _send(client, case: Case, body: dict, headers: dict):
    return await client.request(case.method, API + case.path, json=body, headers=headers)


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_a_stale_if_match_is_refused_and_nothing_is_written(client, session, route):
    estate, _ = await two_estates(session)
    d = Desk(estate, await make_staff(session, estates=[estate], roles=list(Role)))
    case = await CASES[route](client, session, d)
    h = d.staff.headers
    version = version_of(await _send(client, case, case.a, h))
    assert version_of(await _send(client, case, case.b, if_match(version, h))) == version + 1
    stored = await client.get(API + case.read, headers=h)
    assert stored.status_code == 200, stored.text
    if case.read_tagged:
        assert version_of(stored) == version + 1
    assert_stale(await _send(client, case, case.a, if_match(version, h)), current=version + 1)
    again = await client.get(API + case.read, headers=h)
    assert again.json() == stored.json()
    assert again.headers.get("etag") == stored.headers.get("etag")


def _edits(schema: dict) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path.removeprefix(API)): op for path, item in schema["paths"].items()
            for method, op in item.items() if method in ("put", "patch")}


async def test_the_cases_name_every_patch_and_put(app):
    assert set(_edits(app.openapi())) == set(CASES)


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
async def test_each_edit_declares_if_match_etag_412_and_428(app, route):
    schema = app.openapi()
    op = _edits(schema)[route]
    [header] = [p for p in op["parameters"] if p["in"] == "header" and p["name"].lower() == "if-match"]
    assert header["required"] is False
    for status in ("412", "428"):
        assert "Problem" in str(op["responses"][status]["content"]), (route, status)
    assert "ETag" in op["responses"]["200"]["headers"]
    read = schema["paths"][API + route[1]].get("get")
    if read is not None:
        assert "ETag" in read["responses"]["200"]["headers"], route
