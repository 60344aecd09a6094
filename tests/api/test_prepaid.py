"""Prepaid accounts (预存款): deposits with earmarks, the deduction job, overpayments, voids."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.events.model import OutboxEvent
from app.domain.fees.model import Charge, FeeKind
from app.domain.fees.payments.model import Payment, Receipt
from app.domain.fees.prepaid.model import AccountBalance, AccountEntry
from tests.factories import make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.cash import current
from tests.helpers.payments import API, charge_state, desk, keyed, pay
from tests.helpers.prepaid import account, deduct, deposit, earmarks
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.registry_factories import count_rows


class TestDepositPermissions:
    async def test_anonymous_401(self, client, session):
        d = await desk(session)
        r = await client.post(f"{API}/units/{d.unit.id}/deposits", json={"amount": "1", "method": "cash"},
                              headers={"Idempotency-Key": "k"})
        assert r.status_code == 401
        assert (await client.get(f"{API}/units/{d.unit.id}/account")).status_code == 401

    @pytest.mark.parametrize("role", [Role.admin, Role.manager, Role.night_duty])
    async def test_others_403(self, client, session, role):
        d = await desk(session)
        staff = await make_staff(session, estates=[d.estate], roles=[role])
        assert (await deposit(client, d, staff=staff, amount="100.00")).status_code == 403
        assert await count_rows(session, Payment) == 0

    async def test_other_estate_404(self, client, session):
        d = await desk(session)
        stranger = await make_staff(session, estates=[d.other], roles=[Role.receptionist])
        assert (await deposit(client, d, staff=stranger, amount="100.00")).status_code == 404
        assert (await client.get(f"{API}/units/{d.unit.id}/account", headers=stranger.headers)).status_code == 404
        r = await client.get(f"{API}/units/{d.unit.id}/account/statement", headers=stranger.headers)
        assert r.status_code == 404
        assert await count_rows(session, Payment) == 0


class TestDepositInput:
    @pytest.mark.parametrize(("body", "field"), [
        ({"amount": "0"}, "amount"), ({"amount": "1.005"}, "amount"), ({"amount": "NaN"}, "amount"),
        ({"amount": "10.00", "method": "account"}, "method"),
        ({"amount": "10.00", "method": "wechat"}, "reference"),
        ({"amount": "10.00", "earmarks": [{"fee_item_id": "00000000-0000-0000-0000-000000000001", "amount": "10.01"}]}, "body"),
        ({"amount": "10.00", "earmarks": [{"fee_item_id": "not-a-uuid", "amount": "1.00"}]}, "earmarks"),
    ])
    async def test_bad_input_422_nothing_written(self, client, session, body, field):
        d = await desk(session)
        r = await deposit(client, d, **body)
        assert_422(r, field)
        assert await count_rows(session, Payment) == 0 and await count_rows(session, AccountEntry) == 0

    async def test_earmark_of_another_estate_422(self, client, session):
        d = await desk(session)
        foreign = await make_fee_item(session, estate=d.other)
        r = await deposit(client, d, amount="10.00", earmarks=[{"fee_item_id": str(foreign.id), "amount": "5.00"}])
        assert_invalid(r, "earmark-not-in-estate", "earmarks")
        assert await count_rows(session, AccountEntry) == 0

    async def test_idempotent(self, client, session):
        d = await desk(session)
        first = await deposit(client, d, key="dep-1", amount="100.00")
        again = await deposit(client, d, key="dep-1", amount="100.00")
        assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
        assert_problem(await deposit(client, d, key="dep-1", amount="101.00"), 409, "idempotency-key-reused")
        assert (await account(client, d))["balance"] == "100.00"


class TestDeposits:
    async def test_deposit_numbered_in_its_series_counted_in_the_drawer(self, client, session):
        d = await desk(session)
        water = await make_fee_item(session, estate=d.estate, kind=FeeKind.metered, price="3.50", name="水费")
        r = await deposit(client, d, amount="500.00", tendered="600",
                          earmarks=[{"fee_item_id": str(water.id), "amount": "100.00"}])
        assert r.status_code == 201, r.text
        body = r.json()
        assert re.fullmatch(rf"{d.estate.code}-D-\d{{4}}-000001", body["receipt"]["number"]), body["receipt"]["number"]
        assert (body["receipt"]["series"], body["receipt"]["amount_in_words"], body["receipt"]["change"]) == (
            "deposit", "伍佰元整", "100.00")
        # 500.00 - 100.00 earmarked for water = 400.00 free.
        assert body["account"]["balance"] == "500.00"
        assert earmarks(body["account"]) == {None: "400.00", str(water.id): "100.00"}
        # The drawer expects the deposit's cash like a payment's; a payment receipt keeps its own series.
        drawer = await current(client, d)
        assert drawer["expected"]["cash"] == "500.00" and "account" not in drawer["expected"]
        assert (await pay(client, d, amount="1.00")).json()["receipt"]["number"].endswith("-000001")


class TestDeductions:
    async def test_oldest_first_earmarks_only_on_their_item(self, app, client, session):
        d = await desk(session)  # fee charges 160.56 (Jan), 45.00 (Feb), 80.00 (Mar)
        water = await make_fee_item(session, estate=d.estate, kind=FeeKind.metered, price="3.50", name="水费")
        w = await make_charge(session, unit=d.unit, item=water, amount="42.00", period="2026-03", due_date=date(2026, 3, 2))
        assert (await deposit(client, d, amount="350.00", earmarks=[{"fee_item_id": str(water.id), "amount": "50.00"}])
                ).status_code == 201
        summary = await deduct(app, d)
        # Free 300.00: Jan 160.56 -> 139.44, Feb 45.00 -> 94.44, Mar 80.00 -> 14.44.
        # Water 42.00 from its earmark: 50.00 -> 8.00. Deducted 160.56 + 45 + 80 + 42 = 327.56.
        assert summary == {"units": 1, "total": "327.56"}
        assert earmarks(await account(client, d)) == {None: "14.44", str(water.id): "8.00"}
        for c in [*d.charges, w]:
            assert (await charge_state(session, c))[1] is True
        receipts = (await client.get(f"{API}/estates/{d.estate.id}/receipts?series=account", headers=d.staff.headers)).json()
        [doc] = receipts["items"]
        assert re.fullmatch(rf"{d.estate.code}-K-\d{{4}}-000001", doc["number"])
        assert (doc["amount"], doc["method"], doc["cashier_session_id"]) == ("327.56", "account", None)
        assert sorted(a["amount"] for a in doc["allocations"]) == ["160.56", "42.00", "45.00", "80.00"]
        events = (await session.execute(select(OutboxEvent.data).where(OutboxEvent.type == "account.deducted"))).scalars().all()
        assert [(e["amount"], e["receipt_number"]) for e in events] == [("327.56", doc["number"])]
        # Nothing left to settle: the next run does nothing.
        assert await deduct(app, d) == {"units": 0, "total": "0.00"}

    async def test_a_charge_met_by_earmark_and_free_money_is_one_line(self, app, client, session):
        d = await desk(session, amounts=("160.56",))
        fee_item = (await session.execute(select(Charge.fee_item_id).where(Charge.id == d.charges[0].id))).scalar_one()
        await deposit(client, d, amount="200.00", earmarks=[{"fee_item_id": str(fee_item), "amount": "100.00"}])
        assert await deduct(app, d) == {"units": 1, "total": "160.56"}
        # 100.00 earmarked, then 60.56 of the free 100.00: two entries, one allocation.
        entries = (await session.execute(select(AccountEntry.earmark_fee_item_id, AccountEntry.amount)
                                         .where(AccountEntry.kind == "deduction"))).all()
        assert sorted((str(e), str(a)) for e, a in entries) == sorted([(str(fee_item), "-100.00"), ("None", "-60.56")])
        [doc] = (await client.get(f"{API}/estates/{d.estate.id}/receipts?series=account", headers=d.staff.headers)).json()["items"]
        assert [(a["charge_id"], a["amount"]) for a in doc["allocations"]] == [(str(d.charges[0].id), "160.56")]
        assert earmarks(await account(client, d)) == {None: "39.44"}

    async def test_earmarked_money_never_settles_another_item(self, app, client, session):
        d = await desk(session, amounts=("160.56",))
        water = await make_fee_item(session, estate=d.estate, kind=FeeKind.metered, price="3.50", name="水费")
        await deposit(client, d, amount="100.00", earmarks=[{"fee_item_id": str(water.id), "amount": "100.00"}])
        assert await deduct(app, d) == {"units": 0, "total": "0.00"}
        assert await charge_state(session, d.charges[0]) == ("0.00", False)
        assert earmarks(await account(client, d)) == {str(water.id): "100.00"}

    async def test_short_money_pays_the_oldest_in_part(self, app, client, session):
        d = await desk(session)
        await deposit(client, d, amount="200.00")
        assert await deduct(app, d) == {"units": 1, "total": "200.00"}
        # 200.00 - 160.56 = 39.44 of February's 45.00.
        assert [await charge_state(session, c) for c in d.charges] == [("160.56", True), ("39.44", False), ("0.00", False)]
        assert (await account(client, d))["balance"] == "0.00"
        assert await count_rows(session, AccountBalance) == 1

    async def test_overpayment_is_settled_by_the_next_run(self, app, client, session):
        d = await desk(session, amounts=("100.00",))
        assert (await pay(client, d, amount="150.00")).json()["credit"] == "50.00"
        await make_charge(session, unit=d.unit, item=await make_fee_item(session, estate=d.estate), amount="30.00",
                          period="2026-02", due_date=date(2026, 2, 1))
        # The 50.00 left over settles the new 30.00: 20.00 stays on account.
        assert await deduct(app, d) == {"units": 1, "total": "30.00"}
        credit = (await client.get(f"{API}/units/{d.unit.id}/credit", headers=d.staff.headers)).json()
        assert (credit["paid_in"], credit["deducted"], credit["credit"]) == ("50.00", "30.00", "20.00")

    async def test_voiding_a_deduction_gives_the_money_back(self, app, client, session):
        d = await desk(session, amounts=("160.56",))
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        dep = (await deposit(client, d, amount="200.00")).json()
        await deduct(app, d)
        doc = (await session.execute(select(Receipt).where(Receipt.series == "account"))).scalar_one()
        # The deposit's money is spent: its receipt cannot be voided until the deduction is.
        r = await client.post(f"{API}/receipts/{dep['receipt']['id']}/void", json={"reason": "收错"}, headers=keyed(supervisor.headers))
        assert_problem(r, 409, "credit-already-refunded")
        r = await client.post(f"{API}/receipts/{doc.id}/void", json={"reason": "抵扣错户"}, headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text
        assert await charge_state(session, d.charges[0]) == ("0.00", False)
        assert (await account(client, d))["balance"] == "200.00"
        r = await client.post(f"{API}/receipts/{dep['receipt']['id']}/void", json={"reason": "收错"}, headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text
        assert (await account(client, d))["balance"] == "0.00"

    async def test_bill_explanation_shows_the_account(self, client, session):
        d = await desk(session)
        water = await make_fee_item(session, estate=d.estate, kind=FeeKind.metered, price="3.50", name="水费")
        await deposit(client, d, amount="120.00", earmarks=[{"fee_item_id": str(water.id), "amount": "20.00"}])
        bill = (await client.get(f"{API}/units/{d.unit.id}/bill", headers=d.staff.headers)).json()
        assert bill["account"]["balance"] == "120.00"
        assert [(e["name"], e["balance"]) for e in bill["account"]["earmarks"]] == [("不限项目", "100.00"), ("水费", "20.00")]
        assert bill["totals"]["credit"] == "100.00"


class TestAfterBillingRun:
    async def test_the_billing_run_settles_the_new_month_from_the_account(self, app, client, session):
        from datetime import UTC, datetime

        from app.jobs.runner import run_job

        d = await desk(session, amounts=())  # its management fee item, 1.80 元/㎡·月
        assert (await deposit(client, d, amount="200.00")).status_code == 201
        # 06:00 local on 1 November; the unit's 89.20 m² × 1.80 = 160.56, paid from the 200.00 deposit.
        [run] = await run_job(app.state.sessionmaker, "billing_run", estate_id=d.estate.id, now=datetime(2026, 10, 31, 22, tzinfo=UTC))
        assert (run.status, run.summary["created"]) == ("succeeded", 1), run
        charge = (await session.execute(select(Charge).where(Charge.unit_id == d.unit.id))).scalar_one()
        assert (charge.amount, charge.amount_paid) == (Decimal("160.56"), Decimal("160.56"))
        # 200.00 - 160.56 = 39.44.
        assert (await account(client, d))["balance"] == "39.44"


class TestSaturdayRegister:
    async def test_a_deduction_is_listed_and_counted_once_as_its_deposit(self, app, client, session):
        d = await desk(session, amounts=("160.56",))
        await deposit(client, d, amount="300.00")
        await deduct(app, d)
        r = await client.get(f"{API}/estates/{d.estate.id}/fee-reports/saturday-register", headers=d.staff.headers)
        assert r.status_code == 200, r.text
        reg = r.json()
        # The drawer held 300.00: the deposit. The QS-K document settling 160.56 from it counts 0.
        assert [(x["series"], x["amount"], x["counted"]) for x in reg["lines"]] == [
            ("deposit", "300.00", "300.00"), ("account", "160.56", "0.00")]
        assert reg["grand_total"] == "300.00"
        assert [(t["name"], t["amount"]) for t in reg["by_fee_item"]] == [("预收款（存入账户）", "300.00")]
        methods = {t["method"]: (t["amount"], t["receipts"]) for t in reg["by_method"]}
        assert (methods["cash"], methods["account"]) == (("300.00", 1), ("0.00", 1))
        for group in ("by_fee_item", "by_method", "by_cashier"):
            assert sum(Decimal(t["amount"]) for t in reg[group]) == Decimal("300.00"), group
        csv = await client.get(f"{API}/estates/{d.estate.id}/fee-reports/saturday-register", params={"format": "csv"},
                               headers=d.staff.headers)
        assert csv.status_code == 200, csv.text
        counted = [line.split(",")[10] for line in csv.text.lstrip("\ufeff").splitlines()[1:] if "-K-" in line]
        assert counted and all(Decimal(c) == 0 for c in counted), csv.text
