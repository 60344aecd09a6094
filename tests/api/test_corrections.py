"""Correcting a wrong charge: cancel it with its reason (asked for while money is on it), bill the
right one beside it (replaces_id); cancelled charges leave what is owed, the arrears and payments."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, ChargeState
from tests.factories import make_staff
from tests.fees_factories import make_charge, make_fee_item, make_late_fee_rule, make_receipt
from tests.helpers.payments import keyed
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows, make_building, make_unit, two_estates

API = "/api/v1"
NOW = "2026-11-20 02:00Z"


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)


async def ledger(session):
    """An 89.20 m² unit at 2.50/m²·月 billed 223.00 for 2026-10 that should have been 17/31 of it."""
    estate, other = await two_estates(session)
    b = await make_building(session, estate=estate, number=8)
    unit = await make_unit(session, building=b, entrance="2", number="301", area="89.20")
    item = await make_fee_item(session, estate=estate, code="mgmt", price="2.50", effective_from=date(2026, 1, 1), due_day=10)
    charge = await make_charge(session, unit=unit, item=item, amount="223.00", period="2026-10", due_date=date(2026, 10, 10),
                               basis={"rate": "2.50", "area": "89.20", "months": 1, "vacant_discount": None})
    finance = await make_staff(session, estates=[estate], roles=[Role.finance])
    return estate, other, unit, item, charge, finance


async def cancel(client, charge, staff, reason="业主10月15日才入住，应按天计费"):
    return await client.post(f"{API}/charges/{charge.id}/cancel", json={"reason": reason}, headers=staff.headers)


async def rebill(client, charge, staff, **body):
    return await client.post(f"{API}/charges/{charge.id}/rebill", json=body, headers=staff.headers)


async def fresh(session, charge_id) -> Charge:
    stmt = select(Charge).where(Charge.id == charge_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


class TestCancel:
    async def test_unpaid_cancelled_at_once_and_owes_nothing(self, client, session):
        _, _, unit, _, charge, finance = await ledger(session)
        r = await cancel(client, charge, finance)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["state"], body["outstanding"], body["amount"]) == ("cancelled", "0.00", "223.00")
        assert body["cancel_reason"] == "业主10月15日才入住，应按天计费" and body["cancelled_at"].startswith("2026-11-20T02:00")
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.action == "charge.cancel"))).scalar_one()
        assert (entry.before["state"], entry.after["state"]) == ("open", "cancelled")

        bill = (await client.get(f"{API}/units/{unit.id}/bill", headers=finance.headers)).json()
        line = bill["lines"][0]
        assert (line["state"], line["outstanding"]) == ("cancelled", "0.00")
        assert line["explanation"].endswith("（已取消：业主10月15日才入住，应按天计费）")
        assert (bill["totals"]["billed"], bill["totals"]["account_outstanding"], bill["totals"]["balance_due"]) == (
            "0.00", "0.00", "0.00")
        arrears = (await client.get(f"{API}/units/{unit.id}/arrears", headers=finance.headers)).json()
        assert arrears["total"] == "0.00"
        open_charges = (await client.get(f"{API}/units/{unit.id}/charges", params={"status": "open"}, headers=finance.headers)).json()
        assert open_charges["total"] == 0

    async def test_paid_asked_for_202_until_the_payment_is_voided(self, client, session):
        estate, _, unit, _, charge, finance = await ledger(session)
        receipt = await make_receipt(session, estate=estate, unit=unit, cashier=finance.user, amount="100.00", charges=[charge])
        r = await cancel(client, charge, finance)
        assert r.status_code == 202, r.text  # asked for: another person approves (test_charge_cancellations)
        assert (r.json()["status"], r.json()["amount_paid"]) == ("requested", "100.00")
        assert r.headers["Location"] == f"/api/v1/charge-cancellations/{r.json()['id']}"
        assert (await fresh(session, charge.id)).state == ChargeState.open

        supervisor = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        r = await client.post(f"{API}/receipts/{receipt.id}/void", json={"reason": "收错户"}, headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text
        r = await cancel(client, charge, supervisor)
        assert r.status_code == 200 and r.json()["state"] == "cancelled"

    async def test_twice_409_illegal_transition(self, client, session):
        _, _, _, _, charge, finance = await ledger(session)
        assert (await cancel(client, charge, finance)).status_code == 200
        assert_problem(await cancel(client, charge, finance), 409, "illegal-transition")
        assert await count_rows(session, AuditEntry, AuditEntry.action == "charge.cancel") == 1


class TestRetries:
    async def test_a_retried_cancel_and_rebill_answer_what_the_first_did(self, client, session):
        _, _, _, _, charge, finance = await ledger(session)
        url = f"{API}/charges/{charge.id}"
        for verb, body, status in (("cancel", {"reason": "面积录错"}, 200), ("rebill", {"amount": "122.29"}, 201)):
            headers = keyed(finance.headers)
            first = await client.post(f"{url}/{verb}", json=body, headers=headers)
            again = await client.post(f"{url}/{verb}", json=body, headers=headers)
            assert first.status_code == again.status_code == status, again.text
            assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
        assert await count_rows(session, Charge) == 2


class TestCancelWithLateFees:
    """Late fees posted on a wrong charge were reckoned on the wrong amount: they go with it."""

    async def late_fee_posted(self, client, session):
        estate, other, unit, item, charge, finance = await ledger(session)
        await make_late_fee_rule(session, items=[item], daily_rate="0.0005")
        r = await client.post(f"{API}/units/{unit.id}/late-fees", headers=finance.headers)
        assert r.status_code == 200, r.text
        # due 10-10, posted 11-20: 41 days; 223.00 × 0.0005 × 41 = 4.5715 -> 4.57
        assert r.json()["total"] == "4.57"
        fee = (await session.execute(select(Charge).where(Charge.late_fee_of == charge.id))).scalar_one()
        return estate, unit, charge, fee, finance

    async def test_cancelled_with_the_charge_under_its_reason(self, client, session):
        _, unit, charge, fee, finance = await self.late_fee_posted(client, session)
        r = await cancel(client, charge, finance)
        assert r.status_code == 200, r.text
        assert (r.json()["late_fee"], r.json()["late_fee_accruing"]) == ("0.00", "0.00")
        fee = await fresh(session, fee.id)
        assert fee.state == ChargeState.cancelled
        assert fee.cancel_reason == "所欠收费已取消：业主10月15日才入住，应按天计费"
        assert await count_rows(session, AuditEntry, AuditEntry.action == "charge.cancel") == 2
        bill = (await client.get(f"{API}/units/{unit.id}/bill", headers=finance.headers)).json()
        assert (bill["totals"]["account_outstanding"], bill["totals"]["balance_due"]) == ("0.00", "0.00")

    async def test_paid_late_fee_asks_for_the_cancel_and_nothing_moves(self, client, session):
        estate, unit, charge, fee, finance = await self.late_fee_posted(client, session)
        await make_receipt(session, estate=estate, unit=unit, cashier=finance.user, amount="4.57", charges=[fee])
        r = await cancel(client, charge, finance)
        assert r.status_code == 202 and (r.json()["charge_id"], r.json()["amount_paid"]) == (str(charge.id), "4.57")
        assert (await fresh(session, charge.id)).state == (await fresh(session, fee.id)).state == ChargeState.open
        assert await count_rows(session, AuditEntry, AuditEntry.action == "charge.cancel") == 0


class TestRebill:
    async def test_the_amount_sent_replaces_the_cancelled_charge(self, client, session):
        _, _, unit, _, charge, finance = await ledger(session)
        await cancel(client, charge, finance)
        # 15..31 October is 17 days: 2.50 × 89.20 × 17/31 = 122.290… -> 122.29
        r = await rebill(client, charge, finance, amount="122.29")
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["amount"], body["state"], body["replaces_id"], body["period"]) == ("122.29", "open", str(charge.id), "2026-10")
        assert body["source"] == "billing" and body["due_date"] == "2026-11-20"  # not due before it is billed
        bill = (await client.get(f"{API}/units/{unit.id}/bill", headers=finance.headers)).json()
        assert (bill["totals"]["billed"], bill["totals"]["account_outstanding"]) == ("122.29", "122.29")
        assert await count_rows(session, AuditEntry, AuditEntry.action == "charge.rebill") == 1

    async def test_recomputed_from_the_billing_period(self, client, session):
        _, _, unit, _, charge, finance = await ledger(session)
        r = await client.put(f"{API}/units/{unit.id}/billing-period", json={"billed_from": "2026-10-15"}, headers=finance.headers)
        assert r.status_code == 200
        await cancel(client, charge, finance)
        r = await rebill(client, charge, finance)
        assert r.status_code == 201, r.text
        # 2.50 × 89.20 × 17/31 = 122.29, as the run would bill it now
        assert r.json()["amount"] == "122.29" and (r.json()["basis"]["days"], r.json()["basis"]["days_in_month"]) == (17, 31)
        bill = (await client.get(f"{API}/units/{unit.id}/bill", headers=finance.headers)).json()
        new = next(ln for ln in bill["lines"] if ln["state"] == "open")
        assert new["explanation"] == "物业管理费 2.50元/㎡·月 × 89.20㎡ × 17/31个月 = 122.29元"

    async def test_one_off_rebilled_with_its_amount(self, client, session):
        estate, _, unit, _, _, finance = await ledger(session)
        deposit = await make_fee_item(session, estate=estate, code="deposit", name="装修押金", kind="one_off", price="0")
        charge = await make_charge(session, unit=unit, item=deposit, amount="3000.00", period=None, source="manual")
        await cancel(client, charge, finance, reason="押金应为2000元")
        assert_problem(await rebill(client, charge, finance), 409, "nothing-to-rebill")  # one-offs need the amount
        r = await rebill(client, charge, finance, amount="2000.00", description="装修押金（更正）")
        assert r.status_code == 201 and (r.json()["amount"], r.json()["description"]) == ("2000.00", "装修押金（更正）")

    async def test_open_charge_or_second_replacement_409(self, client, session):
        _, _, _, _, charge, finance = await ledger(session)
        assert_problem(await rebill(client, charge, finance, amount="122.29"), 409, "charge-not-cancelled")
        await cancel(client, charge, finance)
        assert (await rebill(client, charge, finance, amount="122.29")).status_code == 201
        assert_problem(await rebill(client, charge, finance, amount="100.00"), 409, "charge-already-replaced")
        assert await count_rows(session, Charge) == 2


class TestCorrectionAccess:
    async def test_who_may(self, client, session):
        estate, _, _, _, charge, _ = await ledger(session)
        assert (await client.post(f"{API}/charges/{charge.id}/cancel", json={"reason": "x"})).status_code == 401
        for role in (Role.receptionist, Role.manager, Role.admin, Role.technician):
            staff = await make_staff(session, estates=[estate], roles=[role])
            assert (await cancel(client, charge, staff)).status_code == 403, role
            assert (await rebill(client, charge, staff, amount="1.00")).status_code == 403, role
        supervisor = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        assert (await cancel(client, charge, supervisor)).status_code == 200
        assert (await rebill(client, charge, supervisor, amount="122.29")).status_code == 201

    async def test_another_estates_charge_404(self, client, session):
        _, other, _, _, charge, _ = await ledger(session)
        outsider = await make_staff(session, estates=[other], roles=[Role.finance])
        assert_problem(await cancel(client, charge, outsider), 404, "charge-not-found")
        assert_problem(await rebill(client, charge, outsider, amount="1.00"), 404, "charge-not-found")
        assert_problem(await cancel(client, type("C", (), {"id": uuid.uuid4()}), outsider), 404, "charge-not-found")
        assert (await fresh(session, charge.id)).state == ChargeState.open

    async def test_bad_input_422_nothing_written(self, client, session):
        _, _, _, _, charge, finance = await ledger(session)
        url = f"{API}/charges/{charge.id}"
        for body in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": 5}, {"reason": "\x00"}):
            assert_422(await client.post(f"{url}/cancel", json=body, headers=finance.headers), "reason")
        assert_422(await client.post(f"{url}/cancel", json={"reason": "x", "why": "y"}, headers=finance.headers), "why")
        assert_422(await cancel(client, charge, finance, reason="   "), "reason")  # blank is no reason
        assert_422(await client.post(f"{API}/charges/nope/cancel", json={"reason": "x"}, headers=finance.headers), "charge_id")
        assert (await fresh(session, charge.id)).state == ChargeState.open
        await cancel(client, charge, finance)
        for body in ({"amount": "0"}, {"amount": "-1.00"}, {"amount": "1.001"}, {"amount": "NaN"}, {"amount": 1e20}):
            assert_422(await client.post(f"{url}/rebill", json=body, headers=finance.headers), "amount")
        assert_422(await client.post(f"{url}/rebill", json={"description": ""}, headers=finance.headers), "description")
        assert await count_rows(session, Charge) == 1
        assert (await fresh(session, charge.id)).amount == Decimal("223.00")


class TestMonthReportCorrections:
    async def test_corrections_block_and_billed_without_cancelled(self, client, session):
        import csv
        import io

        estate, _, unit, item, charge, finance = await ledger(session)
        b = await make_building(session, estate=estate, number=9)
        other_unit = await make_unit(session, building=b, entrance="1", number="101", area="64.22")
        # 2.50 × 64.22 = 160.55, billed whole and left alone
        await make_charge(session, unit=other_unit, item=item, amount="160.55", period="2026-10", due_date=date(2026, 10, 10))
        await cancel(client, charge, finance)
        assert (await rebill(client, charge, finance, amount="122.29")).status_code == 201
        url = f"{API}/estates/{estate.id}/fee-reports/month-end"
        r = await client.get(url, params={"month": "2026-10"}, headers=finance.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["corrections"] == {"cancelled_count": 1, "cancelled_amount": "223.00", "replacements_count": 1,
                                       "replacements_amount": "122.29", "net_effect": "-100.71"}  # 122.29 - 223.00
        # billed: 160.55 + 122.29 = 282.84; the cancelled 223.00 is not in it
        assert body["totals"]["billed"] == "282.84" and body["totals"]["outstanding"] == "282.84"
        assert body["totals"]["households_billed"] == 2

        r = await client.get(url, params={"month": "2026-10", "format": "csv"}, headers=finance.headers)
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        at = next(i for i, row in enumerate(rows) if row and row[0].endswith("更正（已取消的收费不计入应收）"))
        assert rows[at + 1] == ["取消笔数", "取消金额", "重开笔数", "重开金额", "对应收的影响"]
        assert rows[at + 2] == ["1", "223.00", "1", "122.29", "-100.71"]
        r = await client.get(url, params={"month": "2026-10", "format": "xlsx"}, headers=finance.headers)
        assert r.status_code == 200
