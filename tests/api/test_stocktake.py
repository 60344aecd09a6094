"""The month-end stocktake (盤存, §5.7): snapshot, counts, posting the differences, the report for finance."""
from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.stock.model import MovementKind, StockMovement, Stocktake, StocktakeLine
from tests.factories import make_staff
from tests.helpers.problems import assert_422, assert_invalid
from tests.helpers.stock import API, Store, book, count, ledger_sum, new_item, open_count, store, this_month
from tests.registry_factories import count_rows


async def three_items(client, s: Store) -> tuple[dict, dict, dict]:
    a = await new_item(client, s, code="A", name="PVC水管", unit="米", cost="6.50", stock="10")
    b = await new_item(client, s, code="B", name="燈泡", unit="個", cost="12.00", stock="5")
    c = await new_item(client, s, code="C", name="膠布", unit="卷", cost="1.00")
    return a, b, c


async def issue(client, s: Store, item: dict, quantity: str) -> None:
    r = await client.post(f"{API}/stock-items/{item['id']}/issue", json={"quantity": quantity, "work_order_id": str(s.order.id)},
                          headers=s.desk.headers)
    assert r.status_code == 201, r.text


def by_code(detail: dict) -> dict[str, dict]:
    return {line["code"]: line for line in detail["lines"]}


class TestCount:
    async def test_open_count_post_with_movements_in_between(self, client, session):
        s = await store(session)
        a, b, c = await three_items(client, s)
        st = await open_count(client, s)
        assert (st["status"], st["reference"], st["month"], st["line_count"]) == ("open", f"PD-{this_month().replace('-', '')}-01",
                                                                                this_month(), 3)
        assert {k: v["snapshot_quantity"] for k, v in by_code(st).items()} == {"A": "10.000", "B": "5.000", "C": "0.000"}
        await issue(client, s, a, "2")  # after the snapshot, before the count
        d = await count(client, s, st, [(a, "7"), (b, "5")])
        lines = by_code(d)
        assert d["status"] == "counting" and d["counted_count"] == 2
        assert (lines["A"]["movements_since"], lines["A"]["book_quantity"], lines["A"]["difference"]) == ("-2.000", "8.000", "-1.000")
        assert lines["B"]["difference"] == "0.000" and lines["C"]["counted_quantity"] is None
        r = await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.boss.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/stocktake-incomplete" and r.json()["uncounted"] == ["膠布"]
        await count(client, s, st, [(c, "1")])
        await issue(client, s, a, "1")  # after the count: stays on top of the counted figure
        r = await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.boss.headers)
        assert r.status_code == 200, r.text
        posted = r.json()
        assert (posted["status"], posted["allowed_actions"], posted["posted_by"]) == ("posted", [], str(s.boss.id))
        assert await book(session, a["id"]) == Decimal("6") == await ledger_sum(session, a["id"])
        assert await book(session, b["id"]) == Decimal("5") and await book(session, c["id"]) == Decimal("1")
        adjustments = (await session.execute(select(StockMovement).where(StockMovement.kind == MovementKind.adjusted.value)
                                             .order_by(StockMovement.quantity))).scalars().all()
        assert [(m.quantity, m.reference, str(m.stocktake_id)) for m in adjustments] == [
            (Decimal("-1"), posted["reference"], st["id"]), (Decimal("1"), posted["reference"], st["id"])]
        lines = by_code(posted)
        assert lines["A"]["adjustment_id"] == str(adjustments[0].id) and lines["B"]["adjustment_id"] is None
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.entity == "stocktake")
                                         .order_by(AuditEntry.id))).scalars().all()
        assert actions == ["stocktake.open", "stocktake.count", "stocktake.count", "stocktake.post"]

    async def test_posted_count_is_immutable(self, client, session):
        s = await store(session)
        a = await new_item(client, s, stock="3")
        st = await open_count(client, s)
        await count(client, s, st, [(a, "2")])
        assert (await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.boss.headers)).status_code == 200
        again = await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.boss.headers)
        assert again.status_code == 409 and again.json()["type"] == "/problems/illegal-transition"
        r = await client.put(f"{API}/stocktakes/{st['id']}/counts", headers=s.desk.headers,
                             json={"lines": [{"stock_item_id": a["id"], "counted_quantity": "3"}]})
        assert r.status_code == 409
        r = await client.post(f"{API}/stocktakes/{st['id']}/cancel", json={"reason": "x"}, headers=s.boss.headers)
        assert r.status_code == 409
        assert await book(session, a["id"]) == Decimal("2") and await count_rows(session, StockMovement) == 2
        line = (await session.execute(select(StocktakeLine))).scalar_one()
        assert line.counted_quantity == Decimal("2")

    async def test_one_count_at_a_time(self, client, session):
        s = await store(session)
        await new_item(client, s, stock="3")
        results = await asyncio.gather(*[client.post(f"{API}/estates/{s.estate.id}/stocktakes", json={}, headers=s.desk.headers)
                                         for _ in range(2)])
        assert sorted(r.status_code for r in results) == [201, 409]
        [first] = [r.json() for r in results if r.status_code == 201]
        r = await client.post(f"{API}/estates/{s.estate.id}/stocktakes", json={}, headers=s.boss.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/stocktake-already-open"
        r = await client.post(f"{API}/stocktakes/{first['id']}/cancel", json={"reason": "重新盤"}, headers=s.boss.headers)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        second = await open_count(client, s)
        assert second["reference"].endswith("-02")
        r = await client.get(f"{API}/estates/{s.estate.id}/stocktakes", params={"status": "cancelled"}, headers=s.tech.headers)
        assert [x["id"] for x in r.json()["items"]] == [first["id"]]
        assert await count_rows(session, Stocktake) == 2

    async def test_nothing_to_count(self, client, session):
        s = await store(session)
        r = await client.post(f"{API}/estates/{s.estate.id}/stocktakes", json={}, headers=s.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/nothing-to-count"
        assert await count_rows(session, Stocktake) == 0

    async def test_posting_that_would_go_below_zero_is_refused(self, client, session):
        s = await store(session)
        a = await new_item(client, s, stock="5")
        st = await open_count(client, s)
        await count(client, s, st, [(a, "1")])  # 4 short
        await issue(client, s, a, "3")  # the book (2) cannot absorb the shortage: the count was wrong
        r = await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.boss.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/adjustment-below-zero"
        assert await book(session, a["id"]) == Decimal("2")
        assert (await session.execute(select(Stocktake.status))).scalar_one() == "counting"

    async def test_bad_counts_422_nothing_written(self, client, session):
        s = await store(session)
        a = await new_item(client, s, stock="5")
        other = await new_item(client, s, code="Z", name="新到", unit="個")
        st = await open_count(client, s)
        late = await new_item(client, s, code="L", name="開盤後新增", unit="個")
        url = f"{API}/stocktakes/{st['id']}/counts"
        refusals = iter([("validation-failed", "lines"), ("validation-failed", "lines.0.counted_quantity"),
                         ("validation-failed", "lines.0.counted_quantity"), ("validation-failed", "lines.0.counted_quantity"),
                         ("validation-failed", "lines.0.stock_item_id"), ("validation-failed", "lines.0.book"),
                         ("item-not-in-stocktake", "lines.0.stock_item_id"), ("duplicate-count-line", "lines")])
        for body in [{"lines": []}, {"lines": [{"stock_item_id": a["id"], "counted_quantity": "-1"}]},
                     {"lines": [{"stock_item_id": a["id"], "counted_quantity": "1.0001"}]},
                     {"lines": [{"stock_item_id": a["id"]}]}, {"lines": [{"stock_item_id": "x", "counted_quantity": "1"}]},
                     {"lines": [{"stock_item_id": a["id"], "counted_quantity": "1", "book": "1"}]},
                     {"lines": [{"stock_item_id": late["id"], "counted_quantity": "1"}]},
                     {"lines": [{"stock_item_id": a["id"], "counted_quantity": "1"}, {"stock_item_id": a["id"], "counted_quantity": "2"}]}]:
            r = await client.put(url, json=body, headers=s.desk.headers)
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (body, r.text)
            assert_invalid(r, *next(refusals))
        d = (await client.get(f"{API}/stocktakes/{st['id']}", headers=s.desk.headers)).json()
        assert d["status"] == "open" and d["counted_count"] == 0 and {x["code"] for x in d["lines"]} == {a["code"], other["code"]}
        r = await client.post(f"{API}/stocktakes/{st['id']}/cancel", json={"reason": ""}, headers=s.boss.headers)
        assert_422(r, "reason")
        for params in [{"month": "2026-13"}, {"status": "lost"}]:
            r = await client.get(f"{API}/estates/{s.estate.id}/stocktakes", params=params, headers=s.desk.headers)
            assert_422(r, next(iter(params)))


class TestReport:
    async def test_json_and_csv_with_money_fixed_at_posting(self, client, session):
        s = await store(session)
        a, b, c = await three_items(client, s)
        st = await open_count(client, s)
        await issue(client, s, a, "2")
        await count(client, s, st, [(a, "7"), (b, "5"), (c, "1")])
        assert (await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.boss.headers)).status_code == 200
        await client.patch(f"{API}/stock-items/{a['id']}", json={"unit_cost": "100.00"}, headers=s.boss.headers)
        finance = await make_staff(session, estates=[s.estate], roles=[Role.finance])
        r = await client.get(f"{API}/estates/{s.estate.id}/stocktake-report", params={"month": this_month()}, headers=finance.headers)
        assert r.status_code == 200, r.text
        rep = r.json()
        lines = {x["code"]: x for x in rep["lines"]}
        assert (lines["A"]["unit_cost"], lines["A"]["book_value"], lines["A"]["counted_value"], lines["A"]["difference_value"]) == (
            "6.50", "52.00", "45.50", "-6.50")
        assert rep["totals"] == {"items": 3, "counted": 3, "shortages": 1, "surpluses": 1, "book_value": "112.00",
                                 "counted_value": "106.50", "difference_value": "-5.50", "shortage_value": "-6.50",
                                 "surplus_value": "1.00"}
        r = await client.get(f"{API}/stocktakes/{st['id']}/report", params={"format": "csv"}, headers=finance.headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith("\ufeff".encode()) and st["reference"] in r.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[1][:4] == ["序號", "編碼", "名稱", "單位"]
        assert rows[2][1:13] == ["A", "PVC水管", "米", "10.000", "-2.000", "8.000", "7.000", "-1.000", "6.50", "52.00", "45.50", "-6.50"]
        total = rows[5]
        assert total[0] == "合計" and total[10:13] == ["112.00", "106.50", "-5.50"]
        assert rows[-1][4:] == ["112.00", "106.50", "-5.50", "-6.50", "1.00"]  # the summary: shortages, surpluses

    async def test_no_count_for_the_month_404(self, client, session):
        s = await store(session)
        r = await client.get(f"{API}/estates/{s.estate.id}/stocktake-report", params={"month": "2001-01"}, headers=s.desk.headers)
        assert r.status_code == 404 and r.json()["type"] == "/problems/stocktake-not-found"
        r = await client.get(f"{API}/estates/{s.estate.id}/stocktake-report", headers=s.desk.headers)
        assert r.status_code == 422


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        s = await store(session)
        await new_item(client, s, stock="1")
        st = await open_count(client, s)
        for method, path in [("POST", f"/estates/{s.estate.id}/stocktakes"), ("GET", f"/estates/{s.estate.id}/stocktakes"),
                             ("GET", f"/stocktakes/{st['id']}"), ("PUT", f"/stocktakes/{st['id']}/counts"),
                             ("POST", f"/stocktakes/{st['id']}/post"), ("POST", f"/stocktakes/{st['id']}/cancel"),
                             ("GET", f"/stocktakes/{st['id']}/report"), ("GET", f"/estates/{s.estate.id}/stocktake-report?month=2026-01")]:
            answer = await client.request(method, API + path, json={}) if method != "GET" else await client.get(API + path)
            assert answer.status_code == 401

    async def test_wrong_role_403_nothing_written(self, client, session):
        s = await store(session)
        a = await new_item(client, s, stock="1")
        r = await client.post(f"{API}/estates/{s.estate.id}/stocktakes", json={}, headers=s.tech.headers)
        assert r.status_code == 403
        st = await open_count(client, s)
        await count(client, s, st, [(a, "0")])
        night = await make_staff(session, estates=[s.estate], roles=[Role.night_duty])
        assert (await client.get(f"{API}/stocktakes/{st['id']}", headers=night.headers)).status_code == 403
        r = await client.put(
            f"{API}/stocktakes/{st['id']}/counts",
            headers=s.tech.headers,
            json={"lines": [{"stock_item_id": a["id"], "counted_quantity": "1"}]},
        )
        assert r.status_code == 403
        assert (await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.desk.headers)).status_code == 403
        r = await client.post(f"{API}/stocktakes/{st['id']}/cancel", json={"reason": "x"}, headers=s.desk.headers)
        assert r.status_code == 403
        assert (await session.execute(select(Stocktake.status))).scalar_one() == "counting"
        assert await book(session, a["id"]) == Decimal("1")

    async def test_other_estate_404(self, client, session):
        s = await store(session)
        a = await new_item(client, s, stock="1")
        st = await open_count(client, s)
        outsider = await make_staff(session, estates=[s.other], roles=[Role.admin])
        h = outsider.headers
        assert (await client.post(f"{API}/estates/{s.estate.id}/stocktakes", json={}, headers=h)).status_code == 404
        assert (await client.get(f"{API}/estates/{s.estate.id}/stocktakes", headers=h)).status_code == 404
        assert (await client.get(f"{API}/stocktakes/{st['id']}", headers=h)).status_code == 404
        assert (await client.get(f"{API}/stocktakes/{st['id']}/report", headers=h)).status_code == 404
        r = await client.get(f"{API}/estates/{s.estate.id}/stocktake-report", params={"month": this_month()}, headers=h)
        assert r.status_code == 404
        r = await client.put(
            f"{API}/stocktakes/{st['id']}/counts", headers=h, json={"lines": [{"stock_item_id": a["id"], "counted_quantity": "1"}]}
        )
        assert r.status_code == 404
        assert (await client.post(f"{API}/stocktakes/{st['id']}/post", headers=h)).status_code == 404
        assert (await client.post(f"{API}/stocktakes/{st['id']}/cancel", json={"reason": "x"}, headers=h)).status_code == 404
        assert (await session.execute(select(Stocktake.status))).scalar_one() == "open"


class TestAttention:
    async def test_count_in_progress_is_the_desks_until_posted(self, client, session):
        from app.domain.attention.rules import Context
        from app.domain.auth import service as auth_service
        from app.domain.registry.model import Estate
        from app.domain.stock.attention import STOCKTAKE

        s = await store(session)
        a = await new_item(client, s, stock="1")
        st = await open_count(client, s)
        actor = await auth_service.authenticate(session, credential=s.desk.token)
        estate = await session.get(Estate, s.estate.id)
        assert STOCKTAKE.applies(actor) and not STOCKTAKE.applies(await auth_service.authenticate(session, credential=s.tech.token))
        [found], total = await STOCKTAKE.find(session, Context(actor=actor, estates=[estate], now=utcnow()))
        assert (total, found.entity_id, found.kind) == (1, st["id"], "stocktake_due")
        assert found.deadline == datetime.fromisoformat(st["due_at"])  # the end of the month, estate-local
        await count(client, s, st, [(a, "1")])
        assert (await client.post(f"{API}/stocktakes/{st['id']}/post", headers=s.boss.headers)).status_code == 200
        assert await STOCKTAKE.find(session, Context(actor=actor, estates=[estate], now=utcnow())) == ([], 0)
