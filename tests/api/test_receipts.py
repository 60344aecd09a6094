"""Receipts: read, list, the side-effect-free preview, and void (prints: test_receipt_prints.py)."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.cash.model import CashierSession, SessionAdjustment, SessionStatus
from app.domain.fees.payments.model import Allocation, Receipt, ReceiptPrint
from tests.factories import make_staff
from tests.helpers.payments import API, charge_state, desk, keyed, pay, print_receipt
from tests.helpers.pdf import text_of
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows


class TestReceiptPermissions:
    async def test_anonymous_401(self, client, session):
        d = await desk(session)
        rid = (await pay(client, d, amount="10.00")).json()["receipt"]["id"]
        for method, url in [("GET", f"/receipts/{rid}"), ("GET", f"/receipts/{rid}/pdf"), ("GET", f"/estates/{d.estate.id}/receipts"),
                            ("POST", f"/receipts/{rid}/void")]:
            r = await client.request(method, API + url, json={"reason": "x"} if method == "POST" else None)
            assert r.status_code == 401, url

    async def test_only_the_supervisor_voids(self, client, session):
        d = await desk(session)
        rid = (await pay(client, d, amount="10.00")).json()["receipt"]["id"]
        for role in (Role.receptionist, Role.finance, Role.admin, Role.cs_director):
            staff = await make_staff(session, estates=[d.estate], roles=[role])
            r = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "x"}, headers=keyed(staff.headers))
            assert r.status_code == 403, role
        tech = await make_staff(session, estates=[d.estate], roles=[Role.technician])
        assert (await client.get(f"{API}/receipts/{rid}", headers=tech.headers)).status_code == 403
        assert (await client.get(f"{API}/receipts/{rid}/pdf", headers=tech.headers)).status_code == 403

    async def test_other_estate_404(self, client, session):
        d = await desk(session)
        rid = (await pay(client, d, amount="10.00")).json()["receipt"]["id"]
        stranger = await make_staff(session, estates=[d.other], roles=[Role.supervisor])
        for method, url in [("GET", f"/receipts/{rid}"), ("GET", f"/receipts/{rid}/pdf"), ("GET", f"/estates/{d.estate.id}/receipts"),
                            ("POST", f"/receipts/{rid}/void")]:
            headers = keyed(stranger.headers) if method == "POST" else stranger.headers
            r = await client.request(method, API + url, headers=headers, json={"reason": "x"} if method == "POST" else None)
            assert r.status_code == 404, url
        assert (await session.execute(select(Receipt.status))).scalar_one() == "issued"


class TestReadAndList:
    async def test_get(self, client, session):
        d = await desk(session)
        paid = (await pay(client, d, amount="160.56", payer_name="王建國")).json()
        r = await client.get(f"{API}/receipts/{paid['receipt']['id']}", headers=d.staff.headers)
        assert r.status_code == 200
        assert r.json() == paid["receipt"]
        assert r.json()["amount_in_words"] == "壹佰陆拾元伍角陆分" and r.json()["cashier_name"] == "李娜"

    async def test_list_filters(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        await pay(client, d, amount="20.00", method="wechat", reference="WX1")
        colleague = await make_staff(session, estates=[d.estate])
        await pay(client, d, amount="30.00", staff=colleague)

        async def amounts(**params) -> list[str]:
            r = await client.get(f"{API}/estates/{d.estate.id}/receipts", params=params, headers=d.staff.headers)
            assert r.status_code == 200, r.text
            return [x["amount"] for x in r.json()["items"]]

        assert await amounts(sort="number") == ["10.00", "20.00", "30.00"]
        assert await amounts(method="wechat") == ["20.00"]
        assert await amounts(cashier_id=str(colleague.id)) == ["30.00"]
        assert await amounts(number="000002") == ["20.00"]
        assert await amounts(unit_id=str(uuid.uuid4())) == []
        assert await amounts(status="void") == []
        assert await amounts(**{"from": "2000-01-01T00:00:00+08:00", "to": "2000-01-02T00:00:00+08:00"}) == []
        r = await client.get(f"{API}/estates/{d.estate.id}/receipts", params={"from": "2026-01-01T00:00:00"}, headers=d.staff.headers)
        assert r.status_code == 422  # a time without its zone
        assert_422(r, "from")
        r = await client.get(f"{API}/estates/{d.estate.id}/receipts", params={"sort": "nope"}, headers=d.staff.headers)
        assert_problem(r, 422, "unknown-sort-key")


class TestPreview:
    async def test_the_preview_writes_nothing_and_is_marked(self, client, session):
        d = await desk(session)
        receipt = (await pay(client, d, amount="160.56")).json()["receipt"]
        url = f"{API}/receipts/{receipt['id']}/pdf"
        audit_before, prints_before = await count_rows(session, AuditEntry), await count_rows(session, ReceiptPrint)
        first = await client.get(url, headers=d.staff.headers)
        ranged = await client.get(url, headers={**d.staff.headers, "Range": "bytes=0-99"})
        assert first.status_code == 200 and first.headers["content-type"] == "application/pdf", first.text
        assert ranged.status_code in (200, 206)
        assert first.content == (await client.get(url, headers=d.staff.headers)).content
        assert (await count_rows(session, AuditEntry), await count_rows(session, ReceiptPrint)) == (audit_before, prints_before)
        text = text_of(first.content)
        assert text.startswith("预览") or "\n预览" in text, text[:200]
        assert receipt["number"] in text and "160.56" in text and "壹佰陆拾元伍角陆分" in text and "补打" not in text
        got = (await client.get(f"{API}/receipts/{receipt['id']}", headers=d.staff.headers)).json()
        assert (got["prints"], got["reprint_count"]) == ([], 0)
        assert first.headers["content-disposition"] == (
            f"inline; filename=\"receipt-{receipt['number']}-preview.pdf\"; "
            f"filename*=UTF-8''%E6%94%B6%E6%AC%BE%E6%94%B6%E6%8D%AE-{receipt['number']}-%E9%A2%84%E8%A7%88.pdf")

    async def test_a_printed_receipt_still_previews_as_a_preview(self, client, session):
        d = await desk(session)
        rid = (await pay(client, d, amount="160.56")).json()["receipt"]["id"]
        assert (await print_receipt(client, d.staff, rid)).status_code == 201
        assert (await print_receipt(client, d.staff, rid, reason="交款人遗失")).status_code == 201
        text = text_of((await client.get(f"{API}/receipts/{rid}/pdf", headers=d.staff.headers)).content)
        assert "预览" in text and "补打" not in text


class TestVoid:
    async def test_void_reopens_charges_keeps_the_number(self, client, session):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        paid = (await pay(client, d, amount="290.00")).json()
        rid = paid["receipt"]["id"]
        assert paid["credit"] == "4.44"
        r = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "收错户"}, headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text
        v = r.json()
        assert (v["status"], v["number"], v["void_reason"], v["voided_by"]) == (
            "void",
            paid["receipt"]["number"],
            "收错户",
            str(supervisor.id),
        )
        assert all(a["reversed_at"] for a in v["allocations"]) and v["credit"] == "0.00"
        for charge in d.charges:
            assert await charge_state(session, charge) == ("0.00", False)
        assert await count_rows(session, Allocation) == 3 and await count_rows(session, Receipt) == 1
        credit = (await client.get(f"{API}/units/{d.unit.id}/credit", headers=d.staff.headers)).json()
        assert credit["credit"] == "0.00"
        # The next receipt takes the next number; the voided one is never reused.
        assert (await pay(client, d, amount="10.00")).json()["receipt"]["number"].endswith("-000002")

    async def test_void_needs_an_idempotency_key_and_a_retry_voids_once(self, client, session):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        rid = (await pay(client, d, amount="100.00")).json()["receipt"]["id"]
        r = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "x"}, headers=supervisor.headers)
        assert_422(r, "Idempotency-Key")
        assert await charge_state(session, d.charges[0]) == ("100.00", False)  # nothing voided: still paid in part
        headers = keyed(supervisor.headers)
        first = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "x"}, headers=headers)
        again = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "x"}, headers=headers)
        assert (first.status_code, again.status_code, again.headers["idempotent-replayed"]) == (200, 200, "true")
        assert again.json() == first.json() and await charge_state(session, d.charges[0]) == ("0.00", False)

    async def test_void_twice_409(self, client, session):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        rid = (await pay(client, d, amount="100.00")).json()["receipt"]["id"]
        assert (await client.post(f"{API}/receipts/{rid}/void", json={"reason": "x"}, headers=keyed(supervisor.headers))).status_code == 200
        r = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "y"}, headers=keyed(supervisor.headers))
        assert r.status_code == 409 and r.json()["current_state"] == "void"
        assert r.json()["type"] == "/problems/illegal-transition"
        assert await charge_state(session, d.charges[0]) == ("0.00", False)

    @pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": "a\x00"}])
    async def test_void_needs_a_reason(self, client, session, body):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        rid = (await pay(client, d, amount="100.00")).json()["receipt"]["id"]
        r = await client.post(f"{API}/receipts/{rid}/void", json=body, headers=keyed(supervisor.headers))
        assert r.status_code == 422
        assert_422(r, "reason")
        assert (await session.execute(select(Receipt.status))).scalar_one() == "issued"

    async def test_void_after_hand_over_is_an_adjustment_in_the_current_session(self, client, session):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        paid = (await pay(client, d, amount="100.00", method="alipay", reference="AP1")).json()
        old = (await session.execute(select(CashierSession))).scalar_one()
        old.status, old.expected = SessionStatus.handed_over, {"alipay": "100.00"}
        session.add(old)
        await session.commit()
        r = await client.post(f"{API}/receipts/{paid['receipt']['id']}/void", json={"reason": "重复收费"},
                              headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text
        adj = (await session.execute(select(SessionAdjustment))).scalar_one()
        current = (await session.execute(select(CashierSession).where(CashierSession.cashier_id == supervisor.id))).scalar_one()
        assert (adj.cashier_session_id, adj.method, str(adj.amount)) == (current.id, "alipay", "-100.00")
        await session.refresh(old)
        assert old.expected == {"alipay": "100.00"} and old.status == SessionStatus.handed_over

    async def test_void_in_an_open_session_books_no_adjustment(self, client, session):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        rid = (await pay(client, d, amount="100.00")).json()["receipt"]["id"]
        assert (await client.post(f"{API}/receipts/{rid}/void", json={"reason": "x"}, headers=keyed(supervisor.headers))).status_code == 200
        assert await count_rows(session, SessionAdjustment) == 0


async def test_payments_and_voids_are_events(client, session):
    from app.domain.events.model import OutboxEvent

    d = await desk(session)
    paid = (await pay(client, d, amount="160.56")).json()
    supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
    r = await client.post(f"{API}/receipts/{paid['receipt']['id']}/void", headers=keyed(supervisor.headers), json={"reason": "錯收"})
    assert r.status_code == 200, r.text
    rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.seq))).scalars().all()
    assert [e.type for e in rows] == ["payment.received", "receipt.voided"]
    assert rows[0].data["receipt_number"] == paid["receipt"]["number"] and rows[0].data["amount"] == "160.56"
    assert rows[1].data == {"number": paid["receipt"]["number"], "unit_id": paid["unit_id"], "reason": "錯收"}
