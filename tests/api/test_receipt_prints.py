"""Printing receipts as an act: POST …/prints records who, when and why; 补打 N after the first."""
from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.payments.model import ReceiptPrint
from app.domain.idempotency.model import IdempotencyRecord
from tests.factories import make_staff
from tests.helpers.payments import API, desk, keyed, pay, print_receipt
from tests.helpers.pdf import pages_of, text_of
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows

# What a refused print must leave as it was: prints, their audit entries, idempotency keys
# (the payment's own key is the one there at the start).
NOTHING = (0, 0, 1)


async def written(session) -> tuple[int, int, int]:
    return (await count_rows(session, ReceiptPrint), await count_rows(session, AuditEntry, AuditEntry.action == "receipt.print"),
            await count_rows(session, IdempotencyRecord))


async def paid_receipt(client, session, **desk_args) -> tuple:
    d = await desk(session, **desk_args)
    r = await pay(client, d, amount="160.56", payer_name="王建国")
    assert r.status_code == 201, r.text
    return d, r.json()["receipt"]


class TestPrintPermissions:
    async def test_anonymous_401(self, client, session):
        _, receipt = await paid_receipt(client, session)
        assert (await client.post(f"{API}/receipts/{receipt['id']}/prints", json={})).status_code == 401
        assert (await client.get(f"{API}/receipts/{receipt['id']}/prints")).status_code == 401
        assert await written(session) == NOTHING

    @pytest.mark.parametrize("role", [Role.receptionist, Role.supervisor, Role.finance])
    async def test_those_who_answer_for_receipts_print(self, client, session, role):
        d, receipt = await paid_receipt(client, session)
        staff = await make_staff(session, estates=[d.estate], roles=[role], full_name="周敏")
        r = await print_receipt(client, staff, receipt["id"])
        assert r.status_code == 201, r.text
        history = (await client.get(f"{API}/receipts/{receipt['id']}/prints", headers=staff.headers)).json()
        assert [(p["number"], p["by"], p["by_name"]) for p in history] == [(1, str(staff.id), "周敏")]

    @pytest.mark.parametrize("role", [Role.technician, Role.manager, Role.night_duty, Role.admin, Role.cs_director])
    async def test_others_may_not_print(self, client, session, role):
        d, receipt = await paid_receipt(client, session)
        staff = await make_staff(session, estates=[d.estate], roles=[role])
        assert_problem(await print_receipt(client, staff, receipt["id"]), 403, "forbidden")
        assert await written(session) == NOTHING

    async def test_the_technician_sees_no_history_others_reading_fees_do(self, client, session):
        d, receipt = await paid_receipt(client, session)
        tech = await make_staff(session, estates=[d.estate], roles=[Role.technician])
        manager = await make_staff(session, estates=[d.estate], roles=[Role.manager])
        assert (await client.get(f"{API}/receipts/{receipt['id']}/prints", headers=tech.headers)).status_code == 403
        assert (await client.get(f"{API}/receipts/{receipt['id']}/prints", headers=manager.headers)).json() == []

    async def test_another_estates_receipt_is_404(self, client, session):
        d, receipt = await paid_receipt(client, session)
        stranger = await make_staff(session, estates=[d.other], roles=[Role.supervisor])
        for rid in (receipt["id"], str(uuid.uuid4())):
            assert_problem(await print_receipt(client, stranger, rid, key="k1"), 404, "receipt-not-found")
            r = await client.get(f"{API}/receipts/{rid}/prints", headers=stranger.headers)
            assert_problem(r, 404, "receipt-not-found")
        assert await written(session) == NOTHING


class TestPrints:
    async def test_first_print_unmarked_then_reprints_numbered_with_reasons(self, client, session):
        d, receipt = await paid_receipt(client, session)
        first = await print_receipt(client, d.staff, receipt["id"])
        assert first.status_code == 201 and first.headers["content-type"] == "application/pdf"
        assert first.headers["print-number"] == "1"
        text = text_of(first.content)
        assert "补打" not in text and "预览" not in text and receipt["number"] in text
        assert first.headers["content-disposition"].startswith(f'inline; filename="receipt-{receipt["number"]}.pdf"; filename*=UTF-8')
        second = await print_receipt(client, d.staff, receipt["id"], reason="交款人遗失")
        third = await print_receipt(client, d.staff, receipt["id"], reason="打印机卡纸")
        assert "补打1" in text_of(second.content) and "补打2" in text_of(third.content)
        assert third.headers["content-disposition"].startswith(f'inline; filename="receipt-{receipt["number"]}-reprint2.pdf"')
        got = (await client.get(f"{API}/receipts/{receipt['id']}", headers=d.staff.headers)).json()
        assert [(p["number"], p["by_name"], p["reason"]) for p in got["prints"]] == [
            (1, "李娜", ""), (2, "李娜", "交款人遗失"), (3, "李娜", "打印机卡纸")]
        assert got["reprint_count"] == 2
        assert got["prints"] == (await client.get(f"{API}/receipts/{receipt['id']}/prints", headers=d.staff.headers)).json()
        entries = (await session.execute(select(AuditEntry).where(AuditEntry.action == "receipt.print")
                                         .order_by(AuditEntry.id))).scalars().all()
        assert [(e.entity, e.entity_id, e.after["number"], e.after["reason"]) for e in entries] == [
            ("receipt", receipt["id"], 1, ""), ("receipt", receipt["id"], 2, "交款人遗失"), ("receipt", receipt["id"], 3, "打印机卡纸")]

    async def test_a_first_print_needs_no_body(self, client, session):
        d, receipt = await paid_receipt(client, session)
        r = await client.post(f"{API}/receipts/{receipt['id']}/prints", headers=d.staff.headers)
        assert r.status_code == 201 and r.headers["print-number"] == "1", r.text
        r = await client.post(f"{API}/receipts/{receipt['id']}/prints", headers=d.staff.headers)
        assert_422(r, "reason")
        assert await count_rows(session, ReceiptPrint) == 1

    async def test_the_first_print_may_give_a_reason(self, client, session):
        d, receipt = await paid_receipt(client, session)
        r = await print_receipt(client, d.staff, receipt["id"], reason="交款人要求")
        assert r.status_code == 201 and "补打" not in text_of(r.content)
        assert (await client.get(f"{API}/receipts/{receipt['id']}/prints", headers=d.staff.headers)).json()[0]["reason"] == "交款人要求"

    @pytest.mark.parametrize("reason", [None, "", "   "])
    async def test_a_reprint_without_a_reason_is_refused(self, client, session, reason):
        d, receipt = await paid_receipt(client, session)
        assert (await print_receipt(client, d.staff, receipt["id"])).status_code == 201
        before = await written(session)
        r = await print_receipt(client, d.staff, receipt["id"], reason=reason, key="retry-1")
        assert_problem(r, 422, "reprint-needs-reason")
        assert_422(r, "reason")
        assert await written(session) == before

    @pytest.mark.parametrize("body", [{"reason": "x" * 501}, {"reason": "a\x00b"}, {"reason": 5}, {"why": "x"}])
    async def test_bad_input_names_the_reason(self, client, session, body):
        d, receipt = await paid_receipt(client, session)
        r = await client.post(f"{API}/receipts/{receipt['id']}/prints", json=body, headers=d.staff.headers)
        assert r.status_code == 422
        assert_422(r, "why" if "why" in body else "reason")
        assert await written(session) == NOTHING

    async def test_a_retried_print_with_its_key_counts_once(self, client, session):
        d, receipt = await paid_receipt(client, session)
        assert (await print_receipt(client, d.staff, receipt["id"])).status_code == 201
        once = await print_receipt(client, d.staff, receipt["id"], reason="遗失", key="print-42")
        again = await print_receipt(client, d.staff, receipt["id"], reason="遗失", key="print-42")
        assert (once.status_code, again.status_code) == (201, 201)
        assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in once.headers
        assert again.headers["print-number"] == once.headers["print-number"] == "2"
        assert again.content == once.content and "补打1" in text_of(again.content)
        assert await count_rows(session, ReceiptPrint) == 2
        assert_problem(await print_receipt(client, d.staff, receipt["id"], reason="另一个原因", key="print-42"),
                       409, "idempotency-key-reused")
        assert await count_rows(session, ReceiptPrint) == 2

    async def test_concurrent_prints_get_distinct_numbers(self, client, session):
        d, receipt = await paid_receipt(client, session)
        colleagues = [await make_staff(session, estates=[d.estate], roles=[Role.receptionist], full_name=f"收银{n}") for n in range(6)]
        results = await asyncio.gather(*[print_receipt(client, s, receipt["id"], reason=f"第{n}次")
                                         for n, s in enumerate(colleagues)])
        # One of them was the first print (no reason needed, but one was given); every other one a reprint.
        assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
        numbers = sorted(int(r.headers["print-number"]) for r in results)
        assert numbers == [1, 2, 3, 4, 5, 6]
        for r in results:
            n = int(r.headers["print-number"])
            marks = set(re.findall(r"补打(\d+)", text_of(r.content)))  # in the corner of each copy
            assert marks == (set() if n == 1 else {str(n - 1)}), (n, marks)
        rows = (await session.execute(select(ReceiptPrint.number, ReceiptPrint.printed_by))).all()
        assert sorted(n for n, _ in rows) == numbers and len({by for _, by in rows}) == 6

    async def test_a_void_receipt_prints_with_its_void_mark(self, client, session):
        d, receipt = await paid_receipt(client, session)
        boss = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="张主管")
        r = await client.post(f"{API}/receipts/{receipt['id']}/void", json={"reason": "收错户"}, headers=keyed(boss.headers))
        assert r.status_code == 200, r.text
        local = r.json()["voided_at"]
        text = text_of((await print_receipt(client, boss, receipt["id"])).content)
        assert "作废" in text and "收错户" in text and "作废人：张主管" in text
        # The void's time in the estate's zone (Asia/Shanghai, UTC+8), not UTC.
        at = datetime.fromisoformat(local.replace("Z", "+00:00")) + timedelta(hours=8)
        assert f"作废于{at:%Y-%m-%d%H:%M}" in text, text
        assert pages_of((await client.get(f"{API}/receipts/{receipt['id']}/pdf", headers=boss.headers)).content) == 3
