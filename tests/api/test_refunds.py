"""Refunds of overpayments: only up to the unit's credit, numbered in their own series."""
from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from app.domain.auth.roles import Role
from app.domain.fees.payments.model import Receipt, Refund
from tests.factories import Staff, make_staff
from tests.helpers.payments import API, Desk, desk, keyed, pay
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows, make_building, make_unit


async def refund(client, d: Desk, staff: Staff, *, key: str | None = None, unit_id=None, **body):
    body = {"method": "cash", "reason": "多交退回", **body}
    headers = {**staff.headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(f"{API}/units/{unit_id or d.unit.id}/refunds", json=body, headers=headers)


async def overpaid(client, session, *, credit: str = "50.00") -> tuple[Desk, Staff]:
    d = await desk(session, amounts=("100.00",))
    r = await pay(client, d, amount=str(100 + float(credit)))
    assert r.status_code == 201 and r.json()["credit"] == credit
    return d, await make_staff(session, estates=[d.estate], roles=[Role.finance])


async def credit_of(client, d: Desk) -> str:
    return (await client.get(f"{API}/units/{d.unit.id}/credit", headers=d.staff.headers)).json()["credit"]


class TestRefundPermissions:
    async def test_anonymous_401(self, client, session):
        d, _ = await overpaid(client, session)
        r = await client.post(f"{API}/units/{d.unit.id}/refunds", json={"amount": "1", "method": "cash", "reason": "x"},
                              headers={"Idempotency-Key": "k"})
        assert r.status_code == 401
        assert (await client.get(f"{API}/units/{d.unit.id}/credit")).status_code == 401

    @pytest.mark.parametrize("role", [Role.receptionist, Role.admin, Role.manager])
    async def test_others_403(self, client, session, role):
        d, _ = await overpaid(client, session)
        staff = await make_staff(session, estates=[d.estate], roles=[role])
        assert (await refund(client, d, staff, amount="10.00")).status_code == 403
        assert await count_rows(session, Refund) == 0

    async def test_other_estate_404(self, client, session):
        d, _ = await overpaid(client, session)
        stranger = await make_staff(session, estates=[d.other], roles=[Role.finance])
        assert (await refund(client, d, stranger, amount="10.00")).status_code == 404
        assert (await client.get(f"{API}/units/{d.unit.id}/credit", headers=stranger.headers)).status_code == 404
        assert await count_rows(session, Refund) == 0


class TestRefunds:
    async def test_refund_up_to_the_credit_numbered_in_its_series(self, client, session):
        d, finance = await overpaid(client, session)
        r = await refund(client, d, finance, amount="30.00")
        assert r.status_code == 201, r.text
        body = r.json()
        assert re.fullmatch(rf"{d.estate.code}-R-\d{{4}}-000001", body["receipt"]["number"]), body["receipt"]["number"]
        assert (body["amount"], body["receipt"]["series"], body["receipt"]["amount_in_words"]) == ("30.00", "refund", "叁拾元整")
        assert await credit_of(client, d) == "20.00"
        r = await refund(client, d, finance, amount="20.01")
        assert r.status_code == 409 and r.json()["type"] == "/problems/refund-exceeds-credit" and r.json()["credit"] == "20.00"
        r = await refund(client, d, finance, amount="20.00", method="bank_transfer", reference="TR-9")
        assert r.status_code == 201 and r.json()["receipt"]["number"].endswith("-000002")
        assert await credit_of(client, d) == "0.00"
        # Payment receipts keep their own series.
        assert (await pay(client, d, amount="1.00")).json()["receipt"]["number"].endswith("-000002")

    async def test_no_credit_no_refund(self, client, session):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        r = await refund(client, d, finance, amount="0.01")
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/refund-exceeds-credit"
        assert await count_rows(session, Refund) == 0 and await count_rows(session, Receipt) == 0

    @pytest.mark.parametrize(("body", "status"), [
        ({"amount": "10.00", "method": "wechat"}, 422),
        ({"amount": "1.005"}, 422), ({"amount": "-1"}, 422), ({"amount": "NaN"}, 422), ({"amount": "0"}, 422),
        ({"amount": "10.00", "reason": ""}, 422),
    ])
    async def test_bad_input_422(self, client, session, body, status):
        d, finance = await overpaid(client, session)
        r = await refund(client, d, finance, **body)
        assert r.status_code == status
        assert_422(r, "reference" if "method" in body else next(iter(body.keys() - {"amount"}), "amount"))
        assert await count_rows(session, Refund) == 0

    async def test_idempotent(self, client, session):
        d, finance = await overpaid(client, session)
        first = await refund(client, d, finance, key="r1", amount="10.00")
        again = await refund(client, d, finance, key="r1", amount="10.00")
        assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
        assert_problem(await refund(client, d, finance, key="r1", amount="11.00"), 409, "idempotency-key-reused")
        assert await count_rows(session, Refund) == 1

    async def test_two_refunds_at_once_cannot_spend_the_credit_twice(self, client, session):
        d, finance = await overpaid(client, session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        results = await asyncio.gather(refund(client, d, finance, amount="40.00"), refund(client, d, supervisor, amount="40.00"))
        assert sorted(r.status_code for r in results) == [201, 409]
        assert max(results, key=lambda r: r.status_code).json()["type"] == "/problems/refund-exceeds-credit"
        assert await credit_of(client, d) == "10.00"

    async def test_credit_is_per_unit(self, client, session):
        d, finance = await overpaid(client, session)
        neighbour = await make_unit(session, building=await make_building(session, estate=d.estate))
        r = await refund(client, d, finance, amount="1.00", unit_id=neighbour.id)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/refund-exceeds-credit"


class TestVoidAndCredit:
    async def test_voiding_a_refund_restores_the_credit(self, client, session):
        d, finance = await overpaid(client, session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        rid = (await refund(client, d, finance, amount="50.00")).json()["receipt"]["id"]
        assert await credit_of(client, d) == "0.00"
        r = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "未退成"}, headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text
        assert await credit_of(client, d) == "50.00"

    async def test_a_payment_whose_credit_was_refunded_is_not_voided(self, client, session):
        d, finance = await overpaid(client, session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        receipts = (await client.get(f"{API}/estates/{d.estate.id}/receipts", headers=d.staff.headers)).json()["items"]
        await refund(client, d, finance, amount="10.00")
        r = await client.post(f"{API}/receipts/{receipts[0]['id']}/void", json={"reason": "x"}, headers=keyed(supervisor.headers))
        assert r.status_code == 409 and r.json()["type"] == "/problems/credit-already-refunded"
        assert await credit_of(client, d) == "40.00"
