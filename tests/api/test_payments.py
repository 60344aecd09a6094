"""POST /api/v1/units/{unit_id}/payments: one call takes a payment and issues its numbered receipt."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.fees.cash.model import CashierSession, SessionStatus
from app.domain.fees.payments.model import Allocation, Payment, Receipt
from app.domain.idempotency.model import IdempotencyRecord
from tests.factories import make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.payments import API, charge_state, desk, pay
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, make_building, make_unit


class TestPaymentPermissions:
    async def test_anonymous_401(self, client, session):
        d = await desk(session)
        r = await client.post(f"{API}/units/{d.unit.id}/payments", json={"amount": "1", "method": "cash", "settle": "oldest_first"},
                              headers={"Idempotency-Key": "k1"})
        assert r.status_code == 401

    @pytest.mark.parametrize("role", [Role.admin, Role.manager, Role.night_duty, Role.technician, Role.cs_director])
    async def test_roles_without_a_drawer_403(self, client, session, role):
        d = await desk(session)
        other = await make_staff(session, estates=[d.estate], roles=[role])
        r = await pay(client, d, staff=other, amount="10.00")
        assert r.status_code == 403, r.text
        assert await count_rows(session, Payment) == 0

    async def test_403_comes_before_a_missing_key(self, client, session):
        d = await desk(session)
        admin = await make_staff(session, estates=[d.estate], roles=[Role.admin])
        r = await client.post(f"{API}/units/{d.unit.id}/payments", json={"amount": "1"}, headers=admin.headers)
        assert r.status_code == 403

    async def test_other_estate_unit_404(self, client, session):
        d = await desk(session)
        theirs = await make_unit(session, building=await make_building(session, estate=d.other))
        r = await pay(client, d, unit_id=theirs.id, amount="10.00")
        assert r.status_code == 404 and r.json()["type"] == "/problems/unit-not-found"
        assert await count_rows(session, Payment) == 0


class TestTakePayment:
    async def test_selected_charges_in_full(self, client, session):
        d = await desk(session)
        r = await pay(client, d, charge_ids=[str(d.charges[1].id), str(d.charges[0].id)], amount="205.56",
                      payer_name="王建國")
        assert r.status_code == 201, r.text
        p = r.json()
        assert (p["amount"], p["credit"], p["tendered"], p["change_given"]) == ("205.56", "0.00", "205.56", "0.00")
        receipt = p["receipt"]
        assert re.fullmatch(rf"{d.estate.code}-\d{{4}}-000001", receipt["number"]), receipt["number"]
        assert receipt["amount_in_words"] == "贰佰零伍元伍角陆分"
        assert receipt["unit_label"] == "8号楼2单元301" and receipt["payer_name"] == "王建國"
        assert [(a["description"], a["amount"]) for a in receipt["allocations"]] == [
            ("2026-02物业管理费", "45.00"), ("2026-01物业管理费", "160.56")]
        assert await charge_state(session, d.charges[0]) == ("160.56", True)
        assert await charge_state(session, d.charges[1]) == ("45.00", True)
        assert await charge_state(session, d.charges[2]) == ("0.00", False)

    async def test_oldest_first_partial(self, client, session):
        d = await desk(session)
        r = await pay(client, d, amount="180.00", method="wechat", reference="WX4200001")
        assert r.status_code == 201, r.text
        assert [a["amount"] for a in r.json()["receipt"]["allocations"]] == ["160.56", "19.44"]
        assert r.json()["receipt"]["method"] == "wechat" and r.json()["tendered"] is None
        assert await charge_state(session, d.charges[0]) == ("160.56", True)
        assert await charge_state(session, d.charges[1]) == ("19.44", False)
        # The rest of the partly paid charge is paid next, then the next month.
        r = await pay(client, d, amount="30.00")
        assert [a["amount"] for a in r.json()["receipt"]["allocations"]] == ["25.56", "4.44"]
        assert r.json()["receipt"]["number"].endswith("-000002")

    async def test_overpayment_goes_into_the_prepaid_account(self, client, session):
        d = await desk(session, amounts=("100.00",))
        r = await pay(client, d, charge_ids=[str(d.charges[0].id)], amount="150.00", tendered="200")
        assert r.status_code == 201, r.text
        p = r.json()
        assert (p["credit"], p["change_given"], p["tendered"]) == ("50.00", "50.00", "200.00")
        assert p["receipt"]["amount"] == "150.00" and p["receipt"]["credit"] == "50.00"
        credit = await client.get(f"{API}/units/{d.unit.id}/credit", headers=d.staff.headers)
        assert credit.json() == {"unit_id": str(d.unit.id), "paid_in": "50.00", "refunded": "0.00", "deducted": "0.00",
                                 "credit": "50.00"}
        # The credit is the account's free money: an overpayment entry, never earmarked.
        account = (await client.get(f"{API}/units/{d.unit.id}/account", headers=d.staff.headers)).json()
        assert account["balance"] == "50.00"
        assert [(e["fee_item_id"], e["balance"]) for e in account["earmarks"]] == [(None, "50.00")]

    async def test_cash_change(self, client, session):
        d = await desk(session)
        r = await pay(client, d, amount="160.56", tendered="200.00")
        assert (r.json()["tendered"], r.json()["change_given"], r.json()["receipt"]["change"]) == ("200.00", "39.44", "39.44")

    async def test_links_the_cashiers_open_session(self, client, session):
        d = await desk(session)
        r = await pay(client, d, amount="10.00")
        sid = r.json()["cashier_session_id"]
        row = (await session.execute(select(CashierSession))).scalar_one()
        assert str(row.id) == sid and row.cashier_id == d.staff.id and row.status == SessionStatus.open
        assert r.json()["receipt"]["cashier_session_id"] == sid
        await pay(client, d, amount="10.00")
        assert await count_rows(session, CashierSession) == 1

    async def test_refused_when_the_session_is_handed_over(self, client, session):
        d = await desk(session)
        await pay(client, d, amount="10.00")
        row = (await session.execute(select(CashierSession))).scalar_one()
        row.status = SessionStatus.handed_over
        session.add(row)
        await session.commit()
        r = await pay(client, d, amount="10.00")
        assert r.status_code == 409 and r.json()["type"] == "/problems/session-handed-over"
        assert await count_rows(session, Payment) == 1


class TestRefusedPayments:
    @pytest.mark.parametrize(("body", "code"), [
        ({"method": "bank_card", "amount": "10.00"}, "reference-required"),
        ({"method": "alipay", "amount": "10.00", "reference": "   "}, "reference-required"),
        ({"method": "wechat", "amount": "10.00", "reference": "W1", "tendered": "20.00"}, "tendered-only-for-cash"),
        ({"method": "cash", "amount": "10.00", "tendered": "9.99"}, "tendered-too-little"),
    ])
    async def test_rules_422(self, client, session, body, code):
        d = await desk(session)
        r = await pay(client, d, **body)
        assert r.status_code == 422 and r.json()["type"] == f"/problems/{code}", r.text
        assert await count_rows(session, Payment) == 0 and await count_rows(session, Receipt) == 0

    @pytest.mark.parametrize("amount", ["1.005", 1.005, "-1", -1, "NaN", "Infinity", "0", 0, "1e309", "abc", None,
                                        "99999999999.00"])
    async def test_bad_amounts_422_nothing_written(self, client, session, amount):
        d = await desk(session)
        r = await pay(client, d, amount=amount)
        assert r.status_code == 422 and r.json()["type"] == "/problems/validation-failed", r.text
        assert await count_rows(session, Payment) == 0 and await count_rows(session, IdempotencyRecord) == 0

    async def test_huge_json_number_422(self, client, session):
        d = await desk(session)
        headers = {**d.staff.headers, "Idempotency-Key": "k", "Content-Type": "application/json"}
        r = await client.post(f"{API}/units/{d.unit.id}/payments", headers=headers,
                              content=b'{"amount": 1e309, "method": "cash", "settle": "oldest_first"}')
        assert r.status_code == 422, r.text
        assert_422(r, "amount")
        assert await count_rows(session, Payment) == 0

    async def test_exact_decimal_from_a_json_number(self, client, session):
        d = await desk(session, amounts=("0.30",))
        headers = {**d.staff.headers, "Idempotency-Key": "k", "Content-Type": "application/json"}
        r = await client.post(f"{API}/units/{d.unit.id}/payments", headers=headers,
                              content=b'{"amount": 0.3, "method": "cash", "settle": "oldest_first"}')
        assert r.status_code == 201, r.text
        assert r.json()["amount"] == "0.30" and r.json()["credit"] == "0.00"

    @pytest.mark.parametrize("body", [
        {"amount": "10.00", "method": "cash"},  # neither charge_ids nor settle
        {"amount": "10.00", "method": "cash", "settle": "oldest_first", "charge_ids": [str(uuid.uuid4())]},
        {"amount": "10.00", "method": "cheque", "settle": "oldest_first"},
        {"amount": "10.00", "method": "cash", "settle": "oldest_first", "payer_name": "a\x00b"},
        {"amount": "10.00", "method": "cash", "settle": "oldest_first", "status": "void"},
    ])
    async def test_malformed_422(self, client, session, body):
        d = await desk(session)
        headers = {**d.staff.headers, "Idempotency-Key": str(uuid.uuid4())}
        r = await client.post(f"{API}/units/{d.unit.id}/payments", json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/validation-failed"
        assert await count_rows(session, Payment) == 0

    async def test_missing_key_422_names_the_header(self, client, session):
        d = await desk(session)
        r = await client.post(f"{API}/units/{d.unit.id}/payments", json={"amount": "1", "method": "cash", "settle": "oldest_first"},
                              headers=d.staff.headers)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["Idempotency-Key"]
        assert await count_rows(session, Payment) == 0

    async def test_charge_of_another_unit_or_estate(self, client, session):
        d = await desk(session)
        neighbour = await make_unit(session, building=await make_building(session, estate=d.estate))
        theirs = await make_charge(session, unit=neighbour, item=(await make_fee_item(session, estate=d.estate)), amount="5.00")
        for charge_id in (theirs.id, uuid.uuid4()):
            r = await pay(client, d, charge_ids=[str(charge_id)], amount="5.00")
            assert r.status_code == 422 and r.json()["type"] == "/problems/charge-not-on-unit", r.text
        assert await count_rows(session, Payment) == 0

    async def test_settled_charge_409(self, client, session):
        d = await desk(session)
        assert (await pay(client, d, charge_ids=[str(d.charges[0].id)], amount="160.56")).status_code == 201
        r = await pay(client, d, charge_ids=[str(d.charges[0].id)], amount="160.56")
        assert r.status_code == 409 and r.json()["type"] == "/problems/charge-already-settled"
        assert await count_rows(session, Payment) == 1

    async def test_selected_charge_the_money_never_reaches(self, client, session):
        d = await desk(session)
        r = await pay(client, d, charge_ids=[str(d.charges[0].id), str(d.charges[1].id)], amount="100.00")
        assert r.status_code == 422 and r.json()["type"] == "/problems/charge-not-reached"
        assert await count_rows(session, Allocation) == 0
        assert await charge_state(session, d.charges[0]) == ("0.00", False)

    async def test_two_payments_cannot_settle_one_charge_twice(self, client, session):
        import asyncio

        d = await desk(session)
        second = await make_staff(session, estates=[d.estate])
        results = await asyncio.gather(
            pay(client, d, charge_ids=[str(d.charges[0].id)], amount="160.56"),
            pay(client, d, staff=second, charge_ids=[str(d.charges[0].id)], amount="160.56"),
        )
        assert sorted(r.status_code for r in results) == [201, 409]
        assert max(results, key=lambda r: r.status_code).json()["type"] == "/problems/charge-already-settled"
        assert await charge_state(session, d.charges[0]) == ("160.56", True)
        assert await count_rows(session, Receipt) == 1
