"""Refunds of a prepaid balance: at once up to PROPDESK_REFUND_APPROVAL_ABOVE (500.00), approved by another person above."""
from __future__ import annotations

import pytest

from app.domain.auth.roles import Role
from app.domain.fees.payments.model import Refund
from app.domain.fees.prepaid.model import AccountRefund
from tests.factories import make_staff
from tests.helpers.payments import API, desk
from tests.helpers.prepaid import account, deposit, refund_request
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows


async def funded(client, session, amount: str = "1000.00"):
    d = await desk(session, amounts=())
    assert (await deposit(client, d, amount=amount)).status_code == 201
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance], full_name="会计甲")
    supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="主管乙")
    return d, finance, supervisor


async def decide(client, refund_id: str, staff, verb: str = "approve", reason: str = "核对无误"):
    return await client.post(f"{API}/account-refunds/{refund_id}/{verb}", json={"reason": reason}, headers=staff.headers)


class TestRefundPermissions:
    async def test_anonymous_401(self, client, session):
        d, _, _ = await funded(client, session)
        r = await client.post(f"{API}/units/{d.unit.id}/account/refunds", json={}, headers={"Idempotency-Key": "k"})
        assert r.status_code == 401
        assert (await client.post(f"{API}/account-refunds/{d.unit.id}/approve", json={"reason": "x"})).status_code == 401

    @pytest.mark.parametrize("role", [Role.receptionist, Role.admin, Role.manager])
    async def test_others_may_neither_ask_nor_approve(self, client, session, role):
        d, finance, _ = await funded(client, session)
        staff = await make_staff(session, estates=[d.estate], roles=[role])
        assert (await refund_request(client, d, staff, amount="10.00")).status_code == 403
        rid = (await refund_request(client, d, finance, amount="600.00")).json()["id"]
        assert (await decide(client, rid, staff)).status_code == 403
        assert await count_rows(session, Refund) == 0

    async def test_other_estate_404(self, client, session):
        d, finance, _ = await funded(client, session)
        stranger = await make_staff(session, estates=[d.other], roles=[Role.finance])
        assert (await refund_request(client, d, stranger, amount="10.00")).status_code == 404
        rid = (await refund_request(client, d, finance, amount="600.00")).json()["id"]
        assert (await decide(client, rid, stranger)).status_code == 404
        assert await count_rows(session, Refund) == 0

    @pytest.mark.parametrize(("body", "field"), [
        ({"amount": "0"}, "amount"), ({"amount": "10.00", "reason": ""}, "reason"),
        ({"amount": "10.00", "method": "account"}, "method"), ({"amount": "10.00", "method": "alipay"}, "reference"),
    ])
    async def test_bad_input_422(self, client, session, body, field):
        d, finance, _ = await funded(client, session)
        assert_422(await refund_request(client, d, finance, **body), field)
        assert await count_rows(session, AccountRefund) == 0


class TestApproval:
    async def test_small_refund_is_paid_at_once(self, client, session):
        d, finance, _ = await funded(client, session)
        r = await refund_request(client, d, finance, amount="500.00")
        assert r.status_code == 201, r.text
        assert (r.json()["status"], r.json()["receipt_number"][:len(d.estate.code) + 3]) == ("approved", f"{d.estate.code}-R-")
        # 1000.00 - 500.00.
        assert (await account(client, d))["balance"] == "500.00"

    async def test_large_refund_waits_for_another_persons_approval(self, client, session):
        d, finance, supervisor = await funded(client, session)
        r = await refund_request(client, d, finance, amount="600.00")
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert (r.json()["status"], r.json()["refund_id"]) == ("requested", None)
        assert (await account(client, d))["balance"] == "1000.00" and await count_rows(session, Refund) == 0
        # Asking is not approving: the same person may not decide.
        assert_problem(await decide(client, rid, finance), 403, "own-refund-approved")
        assert_422(await decide(client, rid, supervisor, reason=""), "reason")
        r = await decide(client, rid, supervisor)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["decided_by"]) == ("approved", str(supervisor.user.id))
        assert r.json()["receipt_number"].endswith("-000001")
        # 1000.00 - 600.00.
        assert (await account(client, d))["balance"] == "400.00"
        assert_problem(await decide(client, rid, supervisor, "reject"), 409, "illegal-transition")

    async def test_rejected_moves_nothing(self, client, session):
        d, finance, supervisor = await funded(client, session)
        rid = (await refund_request(client, d, supervisor, amount="800.00")).json()["id"]
        r = await decide(client, rid, finance, "reject", reason="业主未提供身份证明")
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        assert (await account(client, d))["balance"] == "1000.00" and await count_rows(session, Refund) == 0

    async def test_more_than_the_balance_is_refused(self, client, session):
        d, finance, supervisor = await funded(client, session, amount="300.00")
        assert_problem(await refund_request(client, d, finance, amount="300.01"), 409, "balance-too-low")
        d2, finance2, _ = await funded(client, session, amount="700.00")
        assert_problem(await refund_request(client, d2, finance2, amount="700.01"), 409, "balance-too-low")
        assert await count_rows(session, AccountRefund) == 0

    async def test_the_desk_refund_above_the_amount_needs_approval(self, client, session):
        d, finance, _ = await funded(client, session)
        r = await client.post(f"{API}/units/{d.unit.id}/refunds", json={"amount": "500.01", "method": "cash", "reason": "x"},
                              headers={**finance.headers, "Idempotency-Key": "big"})
        assert_problem(r, 409, "refund-needs-approval")
        assert await count_rows(session, Refund) == 0
