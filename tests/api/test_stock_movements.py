"""Concurrent issues of the last units, and the materials of a completion voucher issued from stock."""
from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.stock.model import MovementKind, StockMovement
from tests.factories import make_staff
from tests.helpers.stock import API, book, ledger_sum, new_item, store
from tests.helpers.vouchers import body as voucher_body
from tests.helpers.vouchers import post as post_voucher
from tests.registry_factories import count_rows
from tests.repairs_factories import make_order


class TestConcurrency:
    async def test_two_concurrent_issues_of_the_last_unit_one_wins(self, client, session):
        s = await store(session)
        # Several items at once, so the pairs of requests really overlap on their rows.
        stock = [await new_item(client, s, code=f"B-{n}", name=f"燈泡{n}", unit="個", stock="1") for n in range(4)]
        body = {"quantity": "1", "work_order_id": str(s.order.id)}
        calls = [client.post(f"{API}/stock-items/{item['id']}/issue", json=body, headers=s.desk.headers)
                 for item in stock for _ in range(2)]
        results = await asyncio.gather(*calls)
        for n, item in enumerate(stock):
            pair = results[2 * n: 2 * n + 2]
            assert sorted(r.status_code for r in pair) == [201, 409], [r.text for r in pair]
            assert max(pair, key=lambda r: r.status_code).json()["type"] == "/problems/insufficient-stock"
            assert await book(session, item["id"]) == Decimal("0") == await ledger_sum(session, item["id"])

    async def test_many_concurrent_movements_add_up(self, client, session):
        s = await store(session)
        item = await new_item(client, s, stock="3")
        url = f"{API}/stock-items/{item['id']}"
        issue = {"quantity": "1", "work_order_id": str(s.order.id)}
        calls = [client.post(f"{url}/issue", json=issue, headers=s.desk.headers) for _ in range(6)]
        calls += [client.post(f"{url}/receive", json={"quantity": "0.5"}, headers=s.desk.headers) for _ in range(2)]
        results = await asyncio.gather(*calls)
        issued = [r for r in results[:6] if r.status_code == 201]
        assert all(r.status_code in (201, 409) for r in results[:6]) and all(r.status_code == 201 for r in results[6:])
        assert {r.json()["type"] for r in results[:6] if r.status_code == 409} <= {"/problems/insufficient-stock"}
        # However the requests interleaved, the book is the sum of what was booked and never below zero.
        assert 3 <= len(issued) <= 4
        expected = Decimal("3") + Decimal("1.0") - len(issued)
        assert await book(session, item["id"]) == expected == await ledger_sum(session, item["id"])
        balances = (await session.execute(select(StockMovement.balance_after).where(
            StockMovement.stock_item_id == item["id"]))).scalars().all()
        assert min(balances) >= 0


class TestVoucherMaterials:
    async def test_lines_named_as_stock_items_are_issued(self, client, session, settings):
        s = await store(session)
        valve = await new_item(client, s, code="V-1", name="閥芯", unit="個", cost="15.00", stock="2")
        await new_item(client, s, code="TAPE", name="生料帶", unit="卷", cost="2.00", stock="10")
        order = await make_order(session, estate=s.estate, technician=s.tech.user, status=WorkOrderStatus.in_progress,
                                 is_public_area=True)
        materials = [{"item": "閥芯", "quantity": "1", "unit": "個"}, {"item": "生料帶", "quantity": "0.5", "unit": "米"},
                     {"item": "螺絲", "quantity": "4", "unit": "個"}, {"item": "閥芯", "quantity": "0.5", "unit": ""}]
        r = await post_voucher(client, order, s.tech, voucher_body(materials=materials))
        assert r.status_code == 201, r.text
        lines = r.json()["materials"]
        # The tape's unit differs and there is no screw item: those lines are only recorded.
        assert [m["stock_item_id"] for m in lines] == [valve["id"], None, None, valve["id"]]
        [moved] = (await session.execute(select(StockMovement).where(StockMovement.stock_item_id == valve["id"],
                                                                     StockMovement.kind == MovementKind.issued.value))).scalars()
        assert (moved.quantity, moved.work_order_id, str(moved.voucher_id)) == (Decimal("-1.5"), order.id, r.json()["id"])
        assert await book(session, valve["id"]) == Decimal("0.5")

    async def test_not_enough_in_stock_completes_the_job_and_tells_the_desk(self, client, session, settings):
        from app.domain.audit.model import AuditEntry

        s = await store(session)
        valve = await new_item(client, s, code="V-1", name="閥芯", unit="個", stock="1")
        order = await make_order(session, estate=s.estate, technician=s.tech.user, status=WorkOrderStatus.in_progress,
                                 is_public_area=True)
        r = await post_voucher(client, order, s.tech, voucher_body(materials=[{"item": "閥芯", "quantity": "2", "unit": "個"}]))
        # The technician's job is done whatever the book says; the book does not go negative.
        assert r.status_code == 201, r.text
        assert r.json()["materials"][0]["stock_item_id"] is None
        assert (await session.get(WorkOrder, order.id, populate_existing=True)).status == WorkOrderStatus.completed
        assert await book(session, valve["id"]) == Decimal("1") and await count_rows(session, StockMovement) == 1
        [alert] = (await session.execute(select(AuditEntry).where(AuditEntry.action == "stock.voucher_shortfall"))).scalars()
        assert alert.after["wanted"] == "2" and alert.after["book"] == "1.000"

    async def test_other_estates_items_are_not_matched(self, client, session, settings):
        s = await store(session)
        admin = await make_staff(session, estates=[s.other], roles=[Role.admin])
        theirs = await new_item(client, s, code="V-1", name="閥芯", unit="個", estate=s.other, staff=admin)
        order = await make_order(session, estate=s.estate, technician=s.tech.user, status=WorkOrderStatus.in_progress,
                                 is_public_area=True)
        r = await post_voucher(client, order, s.tech, voucher_body(materials=[{"item": "閥芯", "quantity": "1", "unit": "個"}]))
        assert r.status_code == 201, r.text
        assert r.json()["materials"][0]["stock_item_id"] is None
        assert await book(session, theirs["id"]) == Decimal("0") and await count_rows(session, StockMovement) == 0
