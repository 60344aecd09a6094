"""Stock items and their movements (§5.7): received, issued to a work order, returned, adjusted.

The book is the sum of the movements and never goes below zero; permissions and bad input
write nothing.
"""
from __future__ import annotations

from decimal import Decimal

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.repairs.model import WorkOrderStatus
from app.domain.stock.model import StockItem, StockMovement
from tests.factories import make_staff
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.helpers.stock import API, book, ledger_sum, new_item, store
from tests.registry_factories import count_rows
from tests.repairs_factories import make_order


class TestItems:
    async def test_create_read_list_update(self, client, session):
        s = await store(session)
        item = await new_item(client, s)
        assert (item["code"], item["name"], item["unit"], item["unit_cost"], item["quantity"], item["value"]) == (
            "PVC-20", "PVC水管20mm", "米", "6.50", "0.000", "0.00")
        await new_item(client, s, code="BULB-9", name="LED燈泡9W", unit="個", cost="12.00", stock="10")
        r = await client.get(f"{API}/estates/{s.estate.id}/stock-items", headers=s.tech.headers)
        assert r.status_code == 200, r.text
        assert [i["code"] for i in r.json()["items"]] == ["BULB-9", "PVC-20"]
        r = await client.get(f"{API}/estates/{s.estate.id}/stock-items", params={"in_stock": "true", "q": "燈"}, headers=s.desk.headers)
        assert [(i["code"], i["quantity"], i["value"]) for i in r.json()["items"]] == [("BULB-9", "10.000", "120.00")]
        r = await client.patch(f"{API}/stock-items/{item['id']}", json={"unit_cost": "7.25", "active": False}, headers=s.boss.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["unit_cost"], r.json()["active"]) == ("7.25", False)
        r = await client.get(f"{API}/stock-items/{item['id']}", headers=s.desk.headers)
        assert r.json()["unit_cost"] == "7.25"
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "stock_item") == 3

    async def test_code_and_name_unique_in_estate(self, client, session):
        s = await store(session)
        await new_item(client, s)
        for body in ({"code": "PVC-20", "name": "other", "unit": "米"}, {"code": "X", "name": "PVC水管20mm", "unit": "米"}):
            r = await client.post(f"{API}/estates/{s.estate.id}/stock-items", json=body, headers=s.boss.headers)
            assert r.status_code == 409 and r.json()["type"] == "/problems/stock-item-taken", r.text
        other_admin = await make_staff(session, estates=[s.other], roles=[Role.admin])
        await new_item(client, s, estate=s.other, staff=other_admin)  # another estate may use the same code
        assert await count_rows(session, StockItem) == 2

    async def test_bad_input_422_nothing_written(self, client, session):
        s = await store(session)
        base = f"{API}/estates/{s.estate.id}/stock-items"
        refusals = iter([("validation-failed", "unit"), ("validation-failed", "unit_cost"), ("validation-failed", "unit_cost"),
                         ("validation-failed", "name"), ("validation-failed", "quantity"), ("validation-failed", "code"),
                         ("validation-failed", "category"), ("validation-failed", "code")])
        for body in [{"code": "A", "name": "n"}, {"code": "A", "name": "n", "unit": "米", "unit_cost": "1.234"},
                     {"code": "A", "name": "n", "unit": "米", "unit_cost": "-1"}, {"code": "A", "name": "n\x00", "unit": "米"},
                     {"code": "A", "name": "n", "unit": "米", "quantity": "5"}, {"code": "", "name": "n", "unit": "米"},
                     {"code": "A", "name": "n", "unit": "米", "category": "food"}, {"code": "A" * 41, "name": "n", "unit": "米"}]:
            r = await client.post(base, json=body, headers=s.boss.headers)
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", body
            assert_invalid(r, *next(refusals))
        assert await count_rows(session, StockItem) == 0
        r = await client.get(base, params={"sort": "owner"}, headers=s.boss.headers)
        assert_problem(r, 422, "unknown-sort-key")


class TestMovements:
    async def test_receive_issue_return_adjust_keep_the_book(self, client, session):
        s = await store(session)
        item = await new_item(client, s, stock="100.5")
        url = f"{API}/stock-items/{item['id']}"
        r = await client.post(f"{url}/issue", json={"quantity": "12.345", "work_order_id": str(s.order.id)}, headers=s.desk.headers)
        assert r.status_code == 201, r.text
        assert (r.json()["kind"], r.json()["quantity"], r.json()["balance_after"], r.json()["unit_cost"]) == (
            "issued", "-12.345", "88.155", "6.50")
        r = await client.post(f"{url}/return", json={"quantity": "2", "work_order_id": str(s.order.id), "note": "用剩"},
                              headers=s.desk.headers)
        assert r.status_code == 201 and r.json()["balance_after"] == "90.155", r.text
        r = await client.post(f"{url}/adjust", json={"quantity": "-0.155", "reason": "損耗"}, headers=s.boss.headers)
        assert r.status_code == 201 and r.json()["balance_after"] == "90.000", r.text
        assert await book(session, item["id"]) == await ledger_sum(session, item["id"]) == Decimal("90.000")
        r = await client.get(f"{url}/movements", headers=s.desk.headers)
        assert [m["kind"] for m in r.json()["items"]] == ["adjusted", "returned", "issued", "received"]
        r = await client.get(f"{API}/estates/{s.estate.id}/stock-movements", params={"work_order_id": str(s.order.id)},
                             headers=s.desk.headers)
        assert [m["kind"] for m in r.json()["items"]] == ["returned", "issued"]
        assert await count_rows(session, AuditEntry, AuditEntry.action.like("stock.%")) == 4

    async def test_issue_more_than_the_book_is_409_and_nothing_moves(self, client, session):
        s = await store(session)
        item = await new_item(client, s, stock="3")
        r = await client.post(f"{API}/stock-items/{item['id']}/issue", json={"quantity": "3.001", "work_order_id": str(s.order.id)},
                              headers=s.desk.headers)
        assert r.status_code == 409, r.text
        assert (r.json()["type"], r.json()["book"], r.json()["requested"]) == ("/problems/insufficient-stock", "3.000", "3.001")
        assert await book(session, item["id"]) == Decimal("3") and await count_rows(session, StockMovement) == 1
        # An explicit adjustment stops at zero too.
        r = await client.post(f"{API}/stock-items/{item['id']}/adjust", json={"quantity": "-4", "reason": "丟失"}, headers=s.boss.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/adjustment-below-zero"
        r = await client.post(f"{API}/stock-items/{item['id']}/adjust", json={"quantity": "-3", "reason": "丟失"}, headers=s.boss.headers)
        assert r.status_code == 201 and r.json()["balance_after"] == "0.000"

    async def test_returns_bounded_by_what_the_order_holds(self, client, session):
        s = await store(session)
        item = await new_item(client, s, stock="5")
        url = f"{API}/stock-items/{item['id']}"
        await client.post(f"{url}/issue", json={"quantity": "2", "work_order_id": str(s.order.id)}, headers=s.desk.headers)
        r = await client.post(f"{url}/return", json={"quantity": "2.5", "work_order_id": str(s.order.id)}, headers=s.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/return-exceeds-issued"
        r = await client.post(f"{url}/return", json={"quantity": "2.5"}, headers=s.desk.headers)  # found on the shelf
        assert r.status_code == 201 and r.json()["balance_after"] == "5.500"

    async def test_work_order_rules(self, client, session):
        s = await store(session)
        item = await new_item(client, s, stock="5")
        url = f"{API}/stock-items/{item['id']}/issue"
        theirs = await make_order(session, estate=s.other)
        cancelled = await make_order(session, estate=s.estate, status=WorkOrderStatus.cancelled)
        r = await client.post(url, json={"quantity": "1", "work_order_id": str(theirs.id)}, headers=s.desk.headers)
        assert r.status_code == 404  # another estate's order is not acknowledged
        r = await client.post(url, json={"quantity": "1", "work_order_id": str(cancelled.id)}, headers=s.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/work-order-cancelled"
        await client.patch(f"{API}/stock-items/{item['id']}", json={"active": False}, headers=s.boss.headers)
        r = await client.post(url, json={"quantity": "1", "work_order_id": str(s.order.id)}, headers=s.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/stock-item-inactive"
        assert await count_rows(session, StockMovement) == 1

    async def test_bad_movements_422_nothing_written(self, client, session):
        s = await store(session)
        item = await new_item(client, s, stock="5")
        url = f"{API}/stock-items/{item['id']}"
        order = str(s.order.id)
        named = iter(["quantity", "quantity", "quantity", "quantity", "quantity", "x", "work_order_id", "work_order_id", "note",
                      "quantity", "reason", "reason", "unit_cost"])
        for path, body, who in [
            ("receive", {"quantity": "0"}, s.desk),
            ("receive", {"quantity": "-1"}, s.desk),
            ("receive", {"quantity": "1.0001"}, s.desk),
            ("receive", {"quantity": "NaN"}, s.desk),
            ("receive", {"quantity": "1e12"}, s.desk),
            ("receive", {"quantity": 1, "x": 1}, s.desk),
            ("issue", {"quantity": "1"}, s.desk),
            ("issue", {"quantity": "1", "work_order_id": "nope"}, s.desk),
            ("return", {"quantity": "1", "note": "\x00"}, s.desk),
            ("adjust", {"quantity": "0", "reason": "x"}, s.boss),
            ("adjust", {"quantity": "1"}, s.boss),
            ("adjust", {"quantity": "1", "reason": "  "}, s.boss),
            ("issue", {"quantity": "1", "work_order_id": order, "unit_cost": "1"}, s.desk),
        ]:
            r = await client.post(f"{url}/{path}", json=body, headers=who.headers)
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (path, body, r.text)
            assert_422(r, next(named))
        assert await count_rows(session, StockMovement) == 1 and await book(session, item["id"]) == Decimal("5")


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        s = await store(session)
        item = await new_item(client, s)
        for method, path, body in [
            ("GET", f"/estates/{s.estate.id}/stock-items", None),
            ("POST", f"/estates/{s.estate.id}/stock-items", {}),
            ("GET", f"/stock-items/{item['id']}", None),
            ("PATCH", f"/stock-items/{item['id']}", {}),
            ("GET", f"/stock-items/{item['id']}/movements", None),
            ("POST", f"/stock-items/{item['id']}/receive", {"quantity": "1"}),
            ("POST", f"/stock-items/{item['id']}/issue", {}),
            ("POST", f"/stock-items/{item['id']}/return", {}),
            ("POST", f"/stock-items/{item['id']}/adjust", {}),
            ("GET", f"/estates/{s.estate.id}/stock-movements", None),
        ]:
            assert (await client.request(method, API + path, json=body)).status_code == 401, path
        assert await count_rows(session, StockMovement) == 0

    async def test_wrong_role_403_nothing_written(self, client, session):
        s = await store(session)
        item = await new_item(client, s, stock="5")
        url = f"{API}/stock-items/{item['id']}"
        night = await make_staff(session, estates=[s.estate], roles=[Role.night_duty])
        finance = await make_staff(session, estates=[s.estate], roles=[Role.finance])
        assert (await client.get(url, headers=night.headers)).status_code == 403
        r = await client.post(f"{url}/issue", json={"quantity": "1", "work_order_id": str(s.order.id)}, headers=s.tech.headers)
        assert r.status_code == 403  # technicians take materials through their voucher
        assert (await client.post(f"{url}/receive", json={"quantity": "1"}, headers=finance.headers)).status_code == 403
        assert (await client.post(f"{url}/adjust", json={"quantity": "1", "reason": "x"}, headers=s.desk.headers)).status_code == 403
        assert (await client.patch(url, json={"unit_cost": "0.01"}, headers=s.desk.headers)).status_code == 403
        r = await client.post(
            f"{API}/estates/{s.estate.id}/stock-items", json={"code": "X", "name": "X", "unit": "個"}, headers=s.desk.headers
        )
        assert r.status_code == 403
        assert await count_rows(session, StockMovement) == 1 and await count_rows(session, StockItem) == 1

    async def test_other_estate_404(self, client, session):
        s = await store(session)
        item = await new_item(client, s, stock="5")
        outsider = await make_staff(session, estates=[s.other], roles=[Role.admin])
        url = f"{API}/stock-items/{item['id']}"
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
        assert (await client.get(f"{url}/movements", headers=outsider.headers)).status_code == 404
        assert (await client.patch(url, json={"unit_cost": "1"}, headers=outsider.headers)).status_code == 404
        for path, body in [("receive", {"quantity": "1"}), ("return", {"quantity": "1"}), ("adjust", {"quantity": "1", "reason": "x"})]:
            assert (await client.post(f"{url}/{path}", json=body, headers=outsider.headers)).status_code == 404, path
        for path in ("stock-items", "stock-movements"):
            assert (await client.get(f"{API}/estates/{s.estate.id}/{path}", headers=outsider.headers)).status_code == 404
        r = await client.post(
            f"{API}/estates/{s.estate.id}/stock-items", json={"code": "X", "name": "X", "unit": "個"}, headers=outsider.headers
        )
        assert r.status_code == 404
        assert await book(session, item["id"]) == Decimal("5") and await count_rows(session, StockItem) == 1
