"""Cashier sessions over HTTP (交款, §5.4): expected takings, hand-over, locking, acknowledgement."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.fees.cash import service as cash
from app.domain.fees.cash.model import CashierSession, SessionAdjustment
from app.domain.fees.payments.model import Payment
from app.domain.registry.model import Estate
from tests.factories import Staff, make_staff
from tests.helpers.cash import acknowledge, current, get, hand_over
from tests.helpers.payments import API, desk, keyed, pay
from tests.registry_factories import count_rows


async def void(client, receipt_id: str, staff: Staff):
    r = await client.post(f"{API}/receipts/{receipt_id}/void", json={"reason": "收错户"}, headers=keyed(staff.headers))
    assert r.status_code == 200, r.text
    return r


def figures(s: dict) -> tuple:
    return s["expected"]["cash"], s["expected"]["wechat"], s["expected_total"], s["receipt_count"], s["void_count"]


class TestExpectedTakings:
    async def test_opened_on_first_use_and_the_same_afterwards(self, client, session):
        d = await desk(session)
        first = await current(client, d)
        assert (first["status"], first["cashier_id"], first["cashier_name"]) == ("open", str(d.staff.id), "李娜")
        assert first["expected_total"] == "0.00" and first["receipts"] == [] and first["allowed_actions"] == ["hand_over"]
        assert (await current(client, d))["id"] == first["id"]
        assert await count_rows(session, CashierSession) == 1
        assert await count_rows(session, AuditEntry, AuditEntry.action == "cashier_session.open") == 1

    async def test_per_method_net_of_change_and_voids(self, client, session):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        assert (await pay(client, d, amount="160.56", tendered="200")).json()["change_given"] == "39.44"
        await pay(client, d, amount="45.00", method="wechat", reference="WX1")
        voided = (await pay(client, d, amount="80.00")).json()["receipt"]
        await void(client, voided["id"], supervisor)
        s = await current(client, d)
        assert figures(s) == ("160.56", "45.00", "205.56", 2, 1)
        assert {m["method"]: (m["expected"], m["receipts"]) for m in s["by_method"]}["cash"] == ("160.56", 1)
        lines = {line["number"]: (line["amount"], line["status"], line["counted"]) for line in s["receipts"]}
        assert lines[voided["number"]] == ("80.00", "void", False)
        assert sorted(lines.values()) == [("160.56", "issued", True), ("45.00", "issued", True), ("80.00", "void", False)]
        # Nothing is left over for the supervisor's drawer: a void before hand-over is no adjustment.
        assert await count_rows(session, SessionAdjustment) == 0

    async def test_refund_counts_negative(self, client, session):
        d = await desk(session, amounts=("100.00",), roles=(Role.supervisor,))
        await pay(client, d, amount="150.00")  # 50.00 kept on account
        r = await client.post(f"{API}/units/{d.unit.id}/refunds", json={"amount": "30.00", "method": "cash", "reason": "多交退回"},
                              headers={**d.staff.headers, "Idempotency-Key": "refund-1"})
        assert r.status_code == 201, r.text
        s = await current(client, d)
        assert figures(s) == ("120.00", "0.00", "120.00", 2, 0)
        assert sorted((line["series"], line["amount"]) for line in s["receipts"]) == [("receipt", "150.00"), ("refund", "-30.00")]


class TestHandOver:
    async def test_exact_cash(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="160.56", tendered="200")
        await pay(client, d, amount="45.00", method="wechat", reference="WX1")
        sid = (await current(client, d))["id"]
        r = await hand_over(client, sid, d.staff, counted_cash="160.56")
        assert r.status_code == 200, r.text
        s = r.json()
        assert (s["status"], s["counted_cash"], s["difference"], s["note"]) == ("handed_over", "160.56", "0.00", "")
        assert figures(s) == ("160.56", "45.00", "205.56", 2, 0) and s["handed_over_at"]
        assert s["allowed_actions"] == ["acknowledge"]
        row = (await session.execute(select(CashierSession).execution_options(populate_existing=True))).scalar_one()
        assert row.expected["cash"] == "160.56" and row.expected["wechat"] == "45.00"
        assert await count_rows(session, AuditEntry, AuditEntry.action == "cashier_session.hand_over") == 1

    async def test_shortfall_with_note(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="160.56")
        sid = (await current(client, d))["id"]
        r = await hand_over(client, sid, d.staff, counted_cash="150.56", note="找零多找十元")
        assert r.status_code == 200, r.text
        assert (r.json()["difference"], r.json()["note"], r.json()["expected"]["cash"]) == ("-10.00", "找零多找十元", "160.56")

    async def test_shortfall_without_note_writes_nothing(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="160.56")
        sid = (await current(client, d))["id"]
        for note in ("", "   "):
            r = await hand_over(client, sid, d.staff, counted_cash="150.56", note=note)
            assert r.status_code == 422 and r.json()["type"] == "/problems/difference-needs-note"
            assert r.headers["content-type"].startswith("application/problem+json")
        s = await get(client, sid, d.staff)
        assert (s["status"], s["counted_cash"], s["difference"]) == ("open", None, None)
        assert await count_rows(session, AuditEntry, AuditEntry.action == "cashier_session.hand_over") == 0

    async def test_payment_after_hand_over_is_409(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        assert (await hand_over(client, sid, d.staff, counted_cash="10.00")).status_code == 200
        r = await pay(client, d, amount="20.00")
        assert r.status_code == 409 and r.json()["type"] == "/problems/session-handed-over"
        assert await count_rows(session, Payment) == 1
        # Another receptionist's drawer is her own: she still takes money.
        colleague = await make_staff(session, estates=[d.estate], roles=[Role.receptionist], full_name="王芳")
        assert (await pay(client, d, staff=colleague, amount="20.00")).status_code == 201

    async def test_hand_over_twice_is_409(self, client, session):
        d = await desk(session)
        sid = (await current(client, d))["id"]
        assert (await hand_over(client, sid, d.staff, counted_cash="0")).status_code == 200
        r = await hand_over(client, sid, d.staff, counted_cash="0")
        assert r.status_code == 409 and r.json()["type"] == "/problems/illegal-transition"
        assert (r.json()["entity"], r.json()["current_state"], r.json()["action"]) == ("cashier_session", "handed_over", "hand_over")

    async def test_surplus_without_takings_needs_note(self, client, session):
        d = await desk(session)
        sid = (await current(client, d))["id"]
        r = await hand_over(client, sid, d.staff, counted_cash="5.00")
        assert r.status_code == 422 and r.json()["field"] == "note"

    async def test_who_hands_over(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        colleague = await make_staff(session, estates=[d.estate], roles=[Role.receptionist])
        r = await hand_over(client, sid, colleague, counted_cash="10.00")
        assert r.status_code == 404 and r.json()["type"] == "/problems/cashier-session-not-found"
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        r = await hand_over(client, sid, finance, counted_cash="10.00")
        assert r.status_code == 403 and r.json()["type"] == "/problems/not-your-session"
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        r = await hand_over(client, sid, supervisor, counted_cash="10.00")  # on the cashier's behalf
        assert r.status_code == 200 and r.json()["cashier_id"] == str(d.staff.id)


class TestVoidAfterHandOver:
    async def test_old_figures_stay_the_adjustment_is_reported_apart(self, client, session):
        d = await desk(session)
        # She took no money today: the void must not show as a negative drawer of hers.
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="張主管")
        paid = (await pay(client, d, amount="160.56", tendered="200")).json()
        await pay(client, d, amount="45.00", method="wechat", reference="WX1")
        sid = (await current(client, d))["id"]
        before = (await hand_over(client, sid, d.staff, counted_cash="160.56")).json()
        await void(client, paid["receipt"]["id"], supervisor)

        old = await get(client, sid, d.staff)
        assert figures(old) == figures(before) == ("160.56", "45.00", "205.56", 2, 0)
        assert (old["difference"], old["adjustments"]) == ("0.00", [])
        line = next(x for x in old["receipts"] if x["id"] == paid["receipt"]["id"])
        assert (line["status"], line["counted"]) == ("void", True)  # voided after hand-over: still taken here

        mine = await current(client, d, supervisor)
        assert mine["id"] != sid and mine["cashier_id"] == str(supervisor.id)
        assert figures(mine) == ("0.00", "0.00", "0.00", 0, 0)
        cash_line = next(m for m in mine["by_method"] if m["method"] == "cash")
        assert (cash_line["expected"], cash_line["adjustments"], cash_line["adjusted"]) == ("0.00", 1, "-160.56")
        [adj] = mine["adjustments"]
        assert (adj["receipt_number"], adj["method"], adj["amount"], adj["reason"]) == (
            paid["receipt"]["number"], "cash", "-160.56", "收错户")
        assert (adj["session_id"], adj["voided_by"], adj["voided_by_name"]) == (mine["id"], str(supervisor.id), "張主管")
        assert (adj["original_session_id"], adj["original_cashier_id"], adj["original_cashier_name"], adj["original_day"]) == (
            sid, str(d.staff.id), "李娜", old["day"])
        assert adj["at"] == (await client.get(f"{API}/receipts/{paid['receipt']['id']}", headers=supervisor.headers)).json()["voided_at"]
        # Nothing to explain at her hand-over: she counts no cash against none expected.
        r = await hand_over(client, mine["id"], supervisor, counted_cash="0.00")
        assert r.status_code == 200, r.text
        assert (r.json()["difference"], r.json()["expected"]["cash"], len(r.json()["adjustments"])) == ("0.00", "0.00", 1)

        sheet = (await client.get(f"{API}/estates/{d.estate.id}/cash-handover-sheet", headers=supervisor.headers)).json()
        assert [s["expected"]["cash"] for s in sheet["sessions"]] == ["160.56", "0.00"]
        assert [(a["receipt_number"], a["original_session_id"]) for a in sheet["adjustments"]] == [(paid["receipt"]["number"], sid)]
        # The drawers handed over what they took; with the adjustment, what the office kept.
        assert (sheet["expected"]["cash"], sheet["adjustments_total"]["cash"], sheet["net"]["cash"]) == ("160.56", "-160.56", "0.00")
        assert (sheet["expected"]["wechat"], sheet["net"]["wechat"]) == ("45.00", "45.00")
        assert (sheet["counted_cash"], sheet["difference"]) == ("160.56", "0.00")

    async def test_voider_whose_own_drawer_is_handed_over_is_409(self, client, session):
        d = await desk(session, roles=(Role.supervisor,))
        rid = (await pay(client, d, amount="10.00")).json()["receipt"]["id"]
        sid = (await current(client, d))["id"]
        assert (await hand_over(client, sid, d.staff, counted_cash="10.00")).status_code == 200
        r = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "x"}, headers=keyed(d.staff.headers))
        assert r.status_code == 409 and r.json()["type"] == "/problems/session-handed-over"
        assert await count_rows(session, SessionAdjustment) == 0


    async def test_adjustment_session_locks_and_picks_the_voiders_drawer(self, client, session):
        # The helper receipts.void_receipt should call (it row-locks the receipt's own session
        # so a hand-over at the same moment cannot slip between the check and the void).
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        estate_id, company_id, supervisor_id = d.estate.id, d.estate.company_id, supervisor.id
        actor = Actor(id=supervisor_id, label="張主管", company_id=company_id, roles=frozenset({Role.supervisor}),
                      estate_ids=frozenset({estate_id}))
        assert await cash.adjustment_session(session, estate=d.estate, receipt_session_id=uuid.UUID(sid), actor=actor) is None
        assert await cash.adjustment_session(session, estate=d.estate, receipt_session_id=None, actor=actor) is None
        await session.rollback()  # let the hand-over past the row lock
        assert (await hand_over(client, sid, d.staff, counted_cash="10.00")).status_code == 200
        estate = await session.get(Estate, estate_id)
        mine = await cash.adjustment_session(session, estate=estate, receipt_session_id=uuid.UUID(sid), actor=actor)
        assert mine is not None and (mine.cashier_id, mine.status) == (supervisor_id, "open")
        await session.rollback()


class TestAcknowledge:
    async def test_finance_takes_it(self, client, session):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance], full_name="趙會計")
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        await hand_over(client, sid, d.staff, counted_cash="10.00")
        r = await acknowledge(client, sid, finance, note="已收")
        assert r.status_code == 200, r.text
        s = r.json()
        assert (s["status"], s["acknowledged_by"], s["acknowledged_by_name"], s["acknowledge_note"]) == (
            "acknowledged", str(finance.id), "趙會計", "已收")
        assert s["acknowledged_at"] and s["allowed_actions"] == []
        r = await acknowledge(client, sid, finance)
        assert r.status_code == 409 and r.json()["current_state"] == "acknowledged"
        assert r.json()["type"] == "/problems/illegal-transition"

    async def test_an_open_session_is_409(self, client, session):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        sid = (await current(client, d))["id"]
        r = await acknowledge(client, sid, finance)
        assert r.status_code == 409 and r.json()["type"] == "/problems/illegal-transition"
        assert (r.json()["current_state"], r.json()["action"]) == ("open", "acknowledge")
        assert (await get(client, sid, d.staff))["acknowledged_at"] is None

    async def test_finance_never_acknowledges_its_own(self, client, session):
        d = await desk(session, roles=(Role.finance,))
        await pay(client, d, amount="10.00")
        sid = (await current(client, d))["id"]
        assert (await hand_over(client, sid, d.staff, counted_cash="10.00")).status_code == 200
        r = await acknowledge(client, sid, d.staff)
        assert r.status_code == 403 and r.json()["type"] == "/problems/own-hand-over-acknowledged"
        assert (await get(client, sid, d.staff))["status"] == "handed_over"


async def test_a_hand_over_is_an_event(client, session):
    """Finance's systems hear of each hand-over with its figures (issue 6: cash handed over)."""
    from sqlalchemy import select as select_

    from app.domain.events.model import OutboxEvent

    d = await desk(session)
    await pay(client, d, amount="160.56")
    current = (await client.get(f"{API}/estates/{d.estate.id}/cashier-sessions/current", headers=d.staff.headers)).json()
    r = await client.post(f"{API}/cashier-sessions/{current['id']}/hand-over", headers=d.staff.headers,
                          json={"counted_cash": "150.56", "note": "少收10元"})
    assert r.status_code == 200, r.text
    event = (await session.execute(select_(OutboxEvent).where(OutboxEvent.type == "cash.handed_over"))).scalar_one()
    assert event.entity_id == current["id"] and event.data["difference"] == "-10.00" and event.data["counted_cash"] == "150.56"
