"""Waivers (减免) on single charges: ask, approve, reject, withdraw, reverse (issue 17)."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.model import Charge
from app.domain.fees.waivers.model import Waiver
from tests.factories import Staff, make_staff
from tests.helpers.payments import API, Desk, desk, pay
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.registry_factories import count_rows

D = Decimal


@dataclass
class Office:
    d: Desk
    desk: Staff  # receptionist: asks
    supervisor: Staff
    finance: Staff
    stranger: Staff  # a supervisor of the other estate


async def office(session, *, amounts=("160.56", "45.00", "800.00")) -> Office:
    d = await desk(session, amounts=amounts)
    sup = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="張主管")
    fin = await make_staff(session, estates=[d.estate], roles=[Role.finance], full_name="陳會計")
    stranger = await make_staff(session, estates=[d.other], roles=[Role.supervisor])
    return Office(d=d, desk=d.staff, supervisor=sup, finance=fin, stranger=stranger)


async def ask(client, o: Office, charge: Charge, *, staff: Staff | None = None, **body):
    body = {"kind": "amount", "value": "50.00", "reason": "维修延误补偿", **body}
    return await client.post(f"{API}/charges/{charge.id}/waivers", json=body, headers=(staff or o.desk).headers)


async def act(client, waiver_id: str, action: str, staff: Staff, reason: str | None = "业主同意"):
    body = None if reason is None else {"reason": reason}
    return await client.post(f"{API}/waivers/{waiver_id}/{action}", json=body, headers=staff.headers)


async def charge_row(session, charge: Charge) -> Charge:
    return (await session.execute(select(Charge).where(Charge.id == charge.id)
                                  .execution_options(populate_existing=True))).scalar_one()


class TestRequest:
    async def test_anonymous_401(self, client, session):
        o = await office(session)
        r = await client.post(f"{API}/charges/{o.d.charges[0].id}/waivers", json={"kind": "amount", "value": "1", "reason": "x"})
        assert_problem(r, 401, "invalid-token")

    async def test_technician_may_not_ask(self, client, session):
        o = await office(session)
        tech = await make_staff(session, estates=[o.d.estate], roles=[Role.technician])
        assert_problem(await ask(client, o, o.d.charges[0], staff=tech), 403, "forbidden")

    async def test_another_estates_charge_is_404(self, client, session):
        o = await office(session)
        r = await ask(client, o, o.d.charges[0], staff=o.stranger)
        assert_problem(r, 404, "charge-not-found")
        assert await count_rows(session, Waiver) == 0

    async def test_amount_waiver_is_asked_and_nothing_moves_yet(self, client, session):
        o = await office(session)
        r = await ask(client, o, o.d.charges[0], value="50")
        assert r.status_code == 201, r.text
        w = r.json()
        assert (w["status"], w["amount"], w["value"], w["reason"]) == ("requested", "50.00", "50.00", "维修延误补偿")
        assert w["allowed_actions"] == ["approve", "reject", "withdraw"]
        assert (await charge_row(session, o.d.charges[0])).amount_waived == D("0.00")

    async def test_percentage_is_of_the_billed_amount_half_up(self, client, session):
        o = await office(session)
        r = await ask(client, o, o.d.charges[0], kind="percentage", value="15")
        # 160.56 × 15% = 24.084 -> 24.08
        assert r.json()["amount"] == "24.08"
        r = await ask(client, o, o.d.charges[1], kind="percentage", value="33.33")
        # 45.00 × 33.33% = 14.9985 -> 15.00 (half up)
        assert r.json()["amount"] == "15.00"

    @pytest.mark.parametrize(("body", "field"), [
        ({"kind": "amount", "value": "0", "reason": "x"}, "value"),
        ({"kind": "amount", "value": "-5", "reason": "x"}, "value"),
        ({"kind": "amount", "value": "1.005", "reason": "x"}, "value"),
        ({"kind": "amount", "value": "5", "reason": ""}, "reason"),
        ({"kind": "ratio", "value": "5", "reason": "x"}, "kind"),
        ({"kind": "amount", "value": "5"}, "reason"),
        ({"kind": "amount", "value": "5", "reason": "x", "status": "approved"}, "status"),
    ])
    async def test_bad_input_names_the_field(self, client, session, body, field):
        o = await office(session)
        r = await client.post(f"{API}/charges/{o.d.charges[0].id}/waivers", json=body, headers=o.desk.headers)
        assert_422(r, field)
        assert await count_rows(session, Waiver) == 0

    async def test_percent_over_100_and_more_than_owed_are_named(self, client, session):
        o = await office(session)
        assert_invalid(await ask(client, o, o.d.charges[1], kind="percentage", value="100.01"), "percent-above-hundred", "value")
        assert_invalid(await ask(client, o, o.d.charges[1], value="45.01"), "waiver-more-than-owed", "value")
        assert await count_rows(session, Waiver) == 0


class TestApprove:
    async def test_supervisor_approves_and_the_charge_owes_less(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[0])).json()
        r = await act(client, w["id"], "approve", o.supervisor, reason=None)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["decided_by"], body["allowed_actions"]) == ("approved", str(o.supervisor.id), ["reverse"])
        charge = await charge_row(session, o.d.charges[0])
        # 160.56 - 50.00 = 110.56 owed; the billed amount stays.
        assert (charge.amount, charge.amount_waived, charge.outstanding) == (D("160.56"), D("50.00"), D("110.56"))
        actions = set((await session.execute(select(AuditEntry.action).where(
            AuditEntry.entity_id.in_([w["id"], str(charge.id)])))).scalars())
        assert {"waiver.request", "waiver.approve", "charge.waive"} <= actions

    async def test_asker_may_not_approve_their_own(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[0], staff=o.supervisor)).json()
        assert_problem(await act(client, w["id"], "approve", o.supervisor), 403, "self-approval")
        assert (await charge_row(session, o.d.charges[0])).amount_waived == D("0.00")

    async def test_receptionist_may_not_approve(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[0])).json()
        other_desk = await make_staff(session, estates=[o.d.estate], roles=[Role.receptionist])
        assert_problem(await act(client, w["id"], "approve", other_desk), 403, "forbidden")

    async def test_above_the_threshold_only_finance_approves(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[2], value="500.01")).json()
        r = await act(client, w["id"], "approve", o.supervisor)
        body = assert_problem(r, 403, "finance-approves")
        assert body["finance_above"] == "500.00"
        r = await act(client, w["id"], "approve", o.finance)
        assert r.status_code == 200, r.text
        # 800.00 - 500.01 = 299.99
        assert (await charge_row(session, o.d.charges[2])).outstanding == D("299.99")

    async def test_at_the_threshold_the_supervisor_approves(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[2], value="500.00")).json()
        assert (await act(client, w["id"], "approve", o.supervisor)).status_code == 200

    async def test_another_estates_waiver_is_404(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[0])).json()
        assert_problem(await act(client, w["id"], "approve", o.stranger), 404, "waiver-not-found")
        assert_problem(await client.get(f"{API}/waivers/{w['id']}", headers=o.stranger.headers), 404, "waiver-not-found")
        assert_problem(await client.get(f"{API}/waivers/{uuid.uuid4()}", headers=o.desk.headers), 404, "waiver-not-found")

    async def test_approved_twice_is_an_illegal_transition(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[0])).json()
        assert (await act(client, w["id"], "approve", o.supervisor)).status_code == 200
        body = assert_problem(await act(client, w["id"], "approve", o.finance), 409, "illegal-transition")
        assert body["current_state"] == "approved"
        assert (await charge_row(session, o.d.charges[0])).amount_waived == D("50.00")

    async def test_waiver_over_what_is_left_after_a_payment_is_a_named_409(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[1], value="30.00")).json()
        # 45.00 - 20.00 paid = 25.00 left, less than the 30.00 asked for.
        assert (await pay(client, o.d, amount="20.00", charge_ids=[str(o.d.charges[1].id)])).status_code == 201
        body = assert_problem(await act(client, w["id"], "approve", o.supervisor), 409, "waiver-over-outstanding")
        assert body["outstanding"] == "25.00"
        assert (await client.get(f"{API}/waivers/{w['id']}", headers=o.desk.headers)).json()["status"] == "requested"

    async def test_waiver_then_payment_of_the_rest_settles_the_charge(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[1], value="15.00")).json()
        assert (await act(client, w["id"], "approve", o.supervisor)).status_code == 200
        # 45.00 - 15.00 waived = 30.00 to pay; paying 30.00 settles it with no credit.
        r = await pay(client, o.d, amount="30.00", charge_ids=[str(o.d.charges[1].id)])
        assert r.status_code == 201, r.text
        assert r.json()["credit"] == "0.00"
        charge = await charge_row(session, o.d.charges[1])
        assert (charge.amount_paid, charge.amount_waived, charge.outstanding) == (D("30.00"), D("15.00"), D("0.00"))
        assert charge.paid_at is not None


class TestRejectWithdrawReverse:
    async def test_reject_needs_a_reason_and_leaves_the_charge(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[0])).json()
        assert_invalid(await act(client, w["id"], "reject", o.supervisor, reason="  "), "decision-needs-reason", "reason")
        r = await act(client, w["id"], "reject", o.supervisor, reason="不符合减免条件")
        assert (r.json()["status"], r.json()["decision_reason"]) == ("rejected", "不符合减免条件")
        assert (await charge_row(session, o.d.charges[0])).amount_waived == D("0.00")
        assert_problem(await act(client, w["id"], "approve", o.finance), 409, "illegal-transition")

    async def test_the_asker_withdraws_another_receptionist_may_not(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[0])).json()
        other_desk = await make_staff(session, estates=[o.d.estate], roles=[Role.receptionist])
        assert_problem(await act(client, w["id"], "withdraw", other_desk), 403, "not-your-request")
        r = await act(client, w["id"], "withdraw", o.desk, reason="业主已缴清")
        assert r.json()["status"] == "withdrawn"

    async def test_reverse_makes_it_owed_again(self, client, session):
        o = await office(session)
        w = (await ask(client, o, o.d.charges[0])).json()
        await act(client, w["id"], "approve", o.supervisor)
        r = await act(client, w["id"], "reverse", o.finance, reason="批错户")
        assert r.json()["status"] == "reversed"
        assert (await charge_row(session, o.d.charges[0])).outstanding == D("160.56")


class TestList:
    async def test_the_queue_by_status(self, client, session):
        o = await office(session)
        a = (await ask(client, o, o.d.charges[0])).json()
        b = (await ask(client, o, o.d.charges[1], value="5")).json()
        await act(client, a["id"], "approve", o.supervisor)
        url = f"{API}/estates/{o.d.estate.id}/waivers"
        r = await client.get(url, params={"status": "requested"}, headers=o.supervisor.headers)
        assert [w["id"] for w in r.json()["items"]] == [b["id"]]
        r = await client.get(url, headers=o.supervisor.headers)
        assert r.json()["total"] == 2
        assert_problem(await client.get(f"{API}/estates/{o.d.other.id}/waivers", headers=o.supervisor.headers),
                       404, "estate-not-found")
        assert_422(await client.get(url, params={"status": "nope"}, headers=o.supervisor.headers), "status")


async def test_approval_racing_a_payment_never_over_settles(client, session):
    """A payment of the whole charge and the approval of a waiver on it, sent at once: one of them
    comes second and sees what the other left (both lock the charge)."""
    for _ in range(4):
        o = await office(session, amounts=("100.00",))
        w = (await ask(client, o, o.d.charges[0], value="30.00")).json()
        paid, approved = await asyncio.gather(
            pay(client, o.d, amount="100.00", charge_ids=[str(o.d.charges[0].id)]),
            act(client, w["id"], "approve", o.supervisor))
        assert paid.status_code == 201, paid.text
        charge = await charge_row(session, o.d.charges[0])
        assert charge.amount_paid + charge.amount_waived <= charge.amount
        if approved.status_code == 200:
            # Approved first: 100.00 - 30.00 = 70.00 settled, 30.00 kept as credit.
            assert (charge.amount_paid, charge.amount_waived, paid.json()["credit"]) == (D("70.00"), D("30.00"), "30.00")
        else:
            assert_problem(approved, 409, "waiver-over-outstanding")
            assert (charge.amount_paid, charge.amount_waived) == (D("100.00"), D("0.00"))


async def test_a_request_waits_in_the_approvers_queue_not_the_askers(client, session):
    o = await office(session)
    w = (await ask(client, o, o.d.charges[0], staff=o.supervisor)).json()
    kinds = lambda body: [i["entity_id"] for i in body["items"] if i["kind"] == "waiver_to_approve"]  # noqa: E731
    assert kinds((await client.get(f"{API}/attention", headers=o.finance.headers)).json()) == [w["id"]]
    assert kinds((await client.get(f"{API}/attention", headers=o.supervisor.headers)).json()) == []
    await act(client, w["id"], "approve", o.finance)
    assert kinds((await client.get(f"{API}/attention", headers=o.finance.headers)).json()) == []
