"""Cancelling a charge money was paid on: asked (202), approved by another person, the money moved
to the unit's prepaid account, the receipts still valid, the replacement settled from the account."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.corrections.model import ChargeCancellation
from app.domain.fees.model import Charge, ChargeState, FeeItem
from app.domain.fees.payments.model import Allocation
from app.domain.fees.prepaid.model import AccountEntry
from tests.factories import make_staff
from tests.fees_factories import make_late_fee_rule, make_receipt
from tests.helpers.cancellations import REASON, ask, decide, fresh_charge, live_allocated, paid_desk
from tests.helpers.payments import API, keyed, pay
from tests.helpers.prepaid import account, deduct
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows

NOW = "2026-11-20 02:00Z"  # Friday 10:00 in Shanghai: ISO week 47, the register's week of Sat 14 - Fri 20 November
D = Decimal


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)


async def asked(client, session):
    """160.56 billed, 100.00 paid at the desk, the cancel asked for by finance."""
    d, finance, supervisor = await paid_desk(session)
    charge = d.charges[0]
    paid = await pay(client, d, amount="100.00", charge_ids=[str(charge.id)])
    assert paid.status_code == 201, paid.text
    r = await ask(client, charge.id, finance)
    assert r.status_code == 202, r.text
    return d, finance, supervisor, charge, paid.json(), r.json()


class TestAsk:
    async def test_a_paid_charge_is_asked_for_and_nothing_moves(self, client, session):
        d, finance, _, charge, paid, body = await asked(client, session)
        assert (body["status"], body["amount_paid"], body["reason"], body["charge_id"]) == (
            "requested", "100.00", REASON, str(charge.id))
        assert body["requested_by"] == str(finance.user.id) and sorted(body["allowed_actions"]) == ["approve", "reject",
                                                                                                   "withdraw"]
        r = await client.get(f"{API}/charge-cancellations/{body['id']}", headers=finance.headers)
        assert r.status_code == 200 and r.json() == body
        row = await fresh_charge(session, charge.id)
        assert (row.state, row.amount_paid) == (ChargeState.open, D("100.00"))
        assert await live_allocated(session, charge.id) == D("100.00")
        assert await count_rows(session, AccountEntry) == 0
        assert await count_rows(session, AuditEntry, AuditEntry.action == "charge_cancellation.request") == 1

    async def test_location_and_a_replay_answer_202_again(self, client, session):
        d, finance, _ = await paid_desk(session)
        charge = d.charges[0]
        assert (await pay(client, d, amount="100.00")).status_code == 201
        key = str(uuid.uuid4())
        first, again = await ask(client, charge.id, finance, key=key), await ask(client, charge.id, finance, key=key)
        assert first.status_code == again.status_code == 202, again.text
        assert first.headers["Location"] == again.headers["Location"] == f"/api/v1/charge-cancellations/{first.json()['id']}"
        assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
        assert await count_rows(session, ChargeCancellation) == 1

    async def test_a_second_request_while_one_waits_409(self, client, session):
        d, finance, supervisor, charge, _, _ = await asked(client, session)
        assert_problem(await ask(client, charge.id, supervisor), 409, "cancellation-pending")
        assert await count_rows(session, ChargeCancellation) == 1

    async def test_unpaid_still_cancelled_at_once(self, client, session):
        d, finance, _ = await paid_desk(session)
        r = await ask(client, d.charges[0].id, finance)
        assert r.status_code == 200 and r.json()["state"] == "cancelled" and "Location" not in r.headers
        assert await count_rows(session, ChargeCancellation) == 0


class TestApprove:
    async def test_full_path_money_on_account_replacement_settled_from_it(self, app, client, session):
        d, finance, supervisor, charge, paid, body = await asked(client, session)
        r = await decide(client, body["id"], "approve", supervisor)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["decided_by"], r.json()["allowed_actions"]) == (
            "approved", str(supervisor.user.id), [])
        row = await fresh_charge(session, charge.id)
        assert (row.state, row.amount_paid, row.cancel_reason) == (ChargeState.cancelled, D("0.00"), REASON)
        allocs = (await session.execute(select(Allocation).where(Allocation.charge_id == charge.id)
                                        .execution_options(populate_existing=True))).scalars().all()
        assert [(a.amount, a.reversed_at is not None) for a in allocs] == [(D("100.00"), True)]
        [entry] = (await session.execute(select(AccountEntry))).scalars().all()
        assert (entry.kind, entry.amount, entry.earmark_fee_item_id, entry.charge_id, entry.payment_id) == (
            "correction", D("100.00"), None, charge.id, uuid.UUID(paid["id"]))
        assert (await account(client, d))["balance"] == "100.00"
        receipt = (await client.get(f"{API}/receipts/{paid['receipt']['id']}", headers=finance.headers)).json()
        assert receipt["status"] == "issued"  # the money was received: the receipt stays valid

        s = (await client.get(f"{API}/units/{d.unit.id}/account/statement", headers=finance.headers)).json()
        assert (s["opening"], s["deposits"], s["corrections"], s["deductions"], s["closing"]) == (
            "0.00", "0.00", "100.00", "0.00", "100.00")
        [line] = s["lines"]
        assert (line["kind"], line["kind_name"], line["amount"], line["document"]) == (
            "correction", "更正转存", "100.00", paid["receipt"]["number"])

        # The right amount, billed and settled from the account: 100.00 of 150.00, 50.00 owing.
        r = await client.post(f"{API}/charges/{charge.id}/rebill", json={"amount": "150.00"}, headers=finance.headers)
        assert r.status_code == 201, r.text
        new_id = r.json()["id"]
        await deduct(app, d)
        new = await fresh_charge(session, uuid.UUID(new_id))
        assert (new.amount_paid, new.outstanding) == (D("100.00"), D("50.00"))
        assert (await account(client, d))["balance"] == "0.00"
        await self.reports_count_the_desk_receipt(client, d, finance, paid)

    async def reports_count_the_desk_receipt(self, client, d, finance, paid):
        reg = (await client.get(f"{API}/estates/{d.estate.id}/fee-reports/saturday-register", params={"week": "2026-W47"},
                                headers=finance.headers)).json()
        [desk_line] = [ln for ln in reg["lines"] if ln["receipt_id"] == paid["receipt"]["id"]]
        assert (desk_line["status"], desk_line["amount"], desk_line["counted"]) == ("issued", "100.00", "100.00")
        cash = next(m for m in reg["by_method"] if m["method"] == "cash")
        assert cash["amount"] == "100.00"
        month = (await client.get(f"{API}/estates/{d.estate.id}/fee-reports/month-end", params={"month": "2026-11"},
                                  headers=finance.headers)).json()["totals"]
        # The desk's 100.00 is the month's takings, kept on account now (the cancelled charge settles nothing);
        # the deduction's 100.00 settled January's replacement from it: 0 + 100 + 100 - 100 = 100.00.
        assert (month["receipts_total"], month["credit_received"], month["collected_for_earlier"], month["account_used"]) == (
            "100.00", "100.00", "100.00", "100.00")
        assert month["collected_in_month"] == "100.00"
        jan = (await client.get(f"{API}/estates/{d.estate.id}/fee-reports/month-end", params={"month": "2026-01"},
                                headers=finance.headers)).json()
        # 150.00 - 160.56 = -10.56
        assert jan["corrections"] == {"cancelled_count": 1, "cancelled_amount": "160.56", "replacements_count": 1,
                                      "replacements_amount": "150.00", "net_effect": "-10.56"}

    async def test_the_bill_says_moved_to_the_account_not_voided(self, client, session):
        d, finance, supervisor, charge, paid, body = await asked(client, session)
        assert (await decide(client, body["id"], "approve", supervisor)).status_code == 200
        bill = (await client.get(f"{API}/units/{d.unit.id}/bill", headers=finance.headers)).json()
        [line] = [ln for ln in bill["lines"] if ln["charge_id"] == str(charge.id)]
        # The receipt is valid (the money was received): its 100.00 on the charge went to the account.
        [part] = line["payments"]
        assert (part["receipt_id"], part["amount"], part["voided"], part["voided_at"], part["moved_to_account"]) == (
            paid["receipt"]["id"], "100.00", False, None, True)

    async def test_a_paid_late_fee_moves_to_the_account_with_its_charge(self, client, session):
        d, finance, supervisor = await paid_desk(session)
        charge = d.charges[0]
        item = await session.get(FeeItem, charge.fee_item_id)
        await make_late_fee_rule(session, items=[item], daily_rate="0.0005", cap_share="0.10")
        assert (await client.post(f"{API}/units/{d.unit.id}/late-fees", headers=finance.headers)).status_code == 200
        fee = (await session.execute(select(Charge).where(Charge.late_fee_of == charge.id))).scalar_one()
        # 160.56 × 0.0005 × 323 days = 25.93, capped at 10%: 16.06 (half up)
        assert fee.amount == D("16.06")
        await make_receipt(session, estate=d.estate, unit=d.unit, cashier=d.staff.user, amount="66.06", charges=[fee, charge])
        r = await ask(client, charge.id, finance)
        assert r.status_code == 202 and r.json()["amount_paid"] == "66.06"  # 16.06 + 50.00
        assert (await decide(client, r.json()["id"], "approve", supervisor)).status_code == 200
        for row in (await fresh_charge(session, charge.id), await fresh_charge(session, fee.id)):
            assert (row.state, row.amount_paid) == (ChargeState.cancelled, D("0.00"))
        entries = (await session.execute(select(AccountEntry.charge_id, AccountEntry.amount).order_by(AccountEntry.amount))).all()
        assert entries == [
            (fee.id, D("16.06")), (charge.id, D("50.00"))]
        assert (await account(client, d))["balance"] == "66.06"

    async def test_the_asker_may_not_approve_403(self, client, session):
        d, finance, _, charge, _, body = await asked(client, session)
        assert_problem(await decide(client, body["id"], "approve", finance), 403, "own-cancellation-approved")
        assert (await fresh_charge(session, charge.id)).state == ChargeState.open
        assert await count_rows(session, AccountEntry) == 0

    async def test_charge_changed_since_asked_409_nothing_moves(self, client, session):
        d, finance, supervisor, charge, _, body = await asked(client, session)
        assert (await pay(client, d, amount="20.00", charge_ids=[str(charge.id)])).status_code == 201
        assert_problem(await decide(client, body["id"], "approve", supervisor), 409, "charge-changed-since-request")
        row = await fresh_charge(session, charge.id)
        assert (row.state, row.amount_paid) == (ChargeState.open, D("120.00"))
        assert await count_rows(session, AccountEntry) == 0

    async def test_voided_then_cancelled_the_stale_request_409(self, client, session):
        d, finance, supervisor, charge, paid, body = await asked(client, session)
        r = await client.post(f"{API}/receipts/{paid['receipt']['id']}/void", json={"reason": "收错户"}, headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text
        assert (await ask(client, charge.id, finance)).status_code == 200  # nothing paid now: cancelled at once
        assert_problem(await decide(client, body["id"], "approve", supervisor), 409, "charge-changed-since-request")
        r = await decide(client, body["id"], "reject", supervisor, reason="已作废收据后直接取消")
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        assert await count_rows(session, AccountEntry) == 0

    async def test_approved_twice_409(self, client, session):
        _, _, supervisor, _, _, body = await asked(client, session)
        assert (await decide(client, body["id"], "approve", supervisor)).status_code == 200
        assert_problem(await decide(client, body["id"], "approve", supervisor), 409, "illegal-transition")
        assert await count_rows(session, AccountEntry) == 1


class TestAttention:
    async def test_the_request_waits_in_the_approvers_queue_not_the_askers(self, client, session):
        d, finance, supervisor, _, _, body = await asked(client, session)
        outsider = await make_staff(session, estates=[d.other], roles=[Role.supervisor])

        async def queue(staff) -> list[str]:
            r = await client.get(f"{API}/attention", headers=staff.headers)
            assert r.status_code == 200, r.text
            return [i["entity_id"] for i in r.json()["items"] if i["kind"] == "cancellation_to_approve"]

        assert await queue(supervisor) == [body["id"]]
        assert await queue(finance) == []  # finance asked: someone else approves
        assert await queue(d.staff) == [] and await queue(outsider) == []  # the desk may not; another estate sees nothing
        assert (await decide(client, body["id"], "approve", supervisor)).status_code == 200
        assert await queue(supervisor) == []


class TestRejectWithdraw:
    async def test_reject_keeps_the_charge_and_its_money(self, client, session):
        d, _, supervisor, charge, _, body = await asked(client, session)
        r = await decide(client, body["id"], "reject", supervisor, reason="金额无误")
        assert r.status_code == 200 and (r.json()["status"], r.json()["decision_reason"]) == ("rejected", "金额无误")
        row = await fresh_charge(session, charge.id)
        assert (row.state, row.amount_paid) == (ChargeState.open, D("100.00"))
        assert_problem(await decide(client, body["id"], "approve", supervisor), 409, "illegal-transition")

    async def test_withdraw_by_the_asker_then_ask_again(self, client, session):
        d, finance, _, charge, _, body = await asked(client, session)
        other = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        r = await decide(client, body["id"], "withdraw", finance, reason="先核对面积")
        assert r.status_code == 200 and r.json()["status"] == "withdrawn"
        assert (await ask(client, charge.id, other)).status_code == 202  # nothing waits now: ask again
        listed = (await client.get(f"{API}/estates/{d.estate.id}/charge-cancellations", params={"status": "requested"},
                                   headers=finance.headers)).json()
        assert listed["total"] == 1 and listed["items"][0]["requested_by"] == str(other.user.id)

    async def test_reject_or_withdraw_without_reason_422_nothing_written(self, client, session):
        _, finance, supervisor, _, _, body = await asked(client, session)
        for verb, staff in (("reject", supervisor), ("withdraw", finance)):
            for payload in (None, {}, {"reason": ""}, {"reason": "   "}):
                r = await client.post(f"{API}/charge-cancellations/{body['id']}/{verb}", json=payload, headers=staff.headers)
                assert_422(r, "reason") if payload is not None else assert_422(r, "body")
        for payload in ({"reason": "x" * 501}, {"reason": 5}, {"reason": "\x00"}, {"reason": "x", "why": "y"}):
            r = await client.post(f"{API}/charge-cancellations/{body['id']}/approve", json=payload, headers=supervisor.headers)
            assert_422(r, "why" if "why" in payload else "reason")
        assert_422(await client.post(f"{API}/charge-cancellations/nope/approve", headers=supervisor.headers), "cancellation_id")
        assert_422(await client.get(f"{API}/estates/{uuid.uuid4()}/charge-cancellations", params={"status": "open"},
                                    headers=finance.headers), "status")
        r = await client.get(f"{API}/charge-cancellations/{body['id']}", headers=finance.headers)
        assert r.json()["status"] == "requested" and r.json()["decided_at"] is None


class TestAccess:
    async def test_who_may(self, client, session):
        d, finance, supervisor, _, _, body = await asked(client, session)
        url = f"{API}/charge-cancellations/{body['id']}"
        assert (await client.get(url)).status_code == 401
        assert (await client.post(f"{url}/approve")).status_code == 401
        for role in (Role.receptionist, Role.manager, Role.admin, Role.technician):
            staff = await make_staff(session, estates=[d.estate], roles=[role])
            for verb in ("approve", "reject", "withdraw"):
                assert (await decide(client, body["id"], verb, staff, reason="x")).status_code == 403, (role, verb)
        receptionist = d.staff
        assert (await client.get(url, headers=receptionist.headers)).status_code == 200  # reads fees: reads the queue
        assert await count_rows(session, AccountEntry) == 0

    async def test_another_estates_request_404(self, client, session):
        d, _, _, _, _, body = await asked(client, session)
        outsider = await make_staff(session, estates=[d.other], roles=[Role.supervisor])
        for verb in ("approve", "reject", "withdraw"):
            assert_problem(await decide(client, body["id"], verb, outsider, reason="x"), 404, "cancellation-not-found")
        assert_problem(await client.get(f"{API}/charge-cancellations/{body['id']}", headers=outsider.headers), 404,
                       "cancellation-not-found")
        assert_problem(await client.get(f"{API}/estates/{d.estate.id}/charge-cancellations", headers=outsider.headers), 404,
                       "estate-not-found")
        assert_problem(await decide(client, uuid.uuid4(), "approve", outsider), 404, "cancellation-not-found")
