"""The counter (付款码支付) over HTTP against the fake WeChat Pay: the receptionist scans the owner's
payment code; it is paid (booked in the drawer under wechat, not as cash), failed with the
channel's reason, or, when the owner never confirms, reversed at the channel and closed."""
from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.events.model import OutboxEvent
from app.domain.fees.cash.model import CashierSession
from app.domain.fees.channels.model import ChannelPayment
from app.domain.fees.payments.model import Payment, Receipt
from tests.factories import make_staff
from tests.fakes.wechatpay import CodeScript, FakeWechatPay
from tests.helpers.channels import API, CODE, channel_settings, configured, rows, scan
from tests.helpers.payments import charge_state, desk
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows


@pytest.fixture
async def fake():
    server = FakeWechatPay()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings, fake):
    return channel_settings(settings, fake)


def codepays(fake: FakeWechatPay):
    return [s for s in fake.seen if s.path == "/v3/pay/transactions/codepay"]


class TestWhoMayScan:
    async def test_anonymous_is_401_a_technician_403_and_nothing_is_charged(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        url = f"{API}/units/{d.unit.id}/channel-payments/counter"
        body = {"channel": "wechat", "charge_ids": [str(d.charges[0].id)], "auth_code": CODE}
        assert (await client.post(url, json=body, headers={"Idempotency-Key": "k1"})).status_code == 401
        technician = await make_staff(session, estates=[d.estate], roles=[Role.technician])
        assert (await scan(client, d, staff=technician)).status_code == 403
        assert codepays(fake) == [] and await count_rows(session, ChannelPayment) == 0

    async def test_a_receptionist_of_another_estate_gets_404(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        stranger = await make_staff(session, estates=[d.other], roles=[Role.receptionist])
        assert_problem(await scan(client, d, staff=stranger), 404, "unit-not-found")
        assert codepays(fake) == [] and await count_rows(session, ChannelPayment) == 0


class TestBadInput:
    @pytest.mark.parametrize("code", ["13456789012345678", "1345678901234567890", "164567890123456789",
                                      "094567890123456789", "13456789012345678x", " 134567890123456789", ""])
    async def test_a_code_that_is_not_a_wechat_payment_code_is_422_naming_it(self, client, session, fake, code):
        d, _ = await configured(client, session, fake)
        assert_422(await scan(client, d, auth_code=code), "auth_code")
        assert codepays(fake) == [] and await count_rows(session, ChannelPayment) == 0

    async def test_repeated_charges_unknown_fields_and_no_key_are_422(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        assert_422(await scan(client, d, [d.charges[0], d.charges[0]]), "charge_ids")
        assert_422(await scan(client, d, amount="1.00"), "amount")
        r = await client.post(f"{API}/units/{d.unit.id}/channel-payments/counter", headers=d.staff.headers,
                              json={"channel": "wechat", "charge_ids": [str(d.charges[0].id)], "auth_code": CODE})
        assert_422(r, "Idempotency-Key")
        assert codepays(fake) == [] and await count_rows(session, ChannelPayment) == 0

    async def test_a_charge_of_another_unit_or_settled_and_no_merchant_are_refused(self, client, session, fake):
        d = await desk(session)
        assert_problem(await scan(client, d), 409, "channel-not-configured")
        d, _ = await configured(client, session, fake)
        other = await desk(session)
        assert_422(await scan(client, d, [other.charges[0]]), "charge_ids")
        assert codepays(fake) == [] and await count_rows(session, ChannelPayment) == 0

    async def test_the_qr_endpoint_refuses_kind_codepay(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        r = await client.post(f"{API}/units/{d.unit.id}/channel-payments", headers={**d.staff.headers, "Idempotency-Key": "q"},
                              json={"channel": "wechat", "kind": "codepay", "charge_ids": [str(d.charges[0].id)]})
        assert_422(r, "kind")
        assert fake.seen == []


async def current_drawer(client, d):
    r = await client.get(f"{API}/estates/{d.estate.id}/cashier-sessions/current", headers=d.staff.headers)
    assert r.status_code == 200, r.text
    return r.json()


class TestPaid:
    async def test_paid_at_once_books_into_the_drawer_under_wechat_not_as_cash(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        r = await scan(client, d)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["status"], body["kind"], body["amount"], body["reason"]) == ("paid", "codepay", "205.56", "")
        assert r.headers["location"] == f"{API}/channel-payments/{body['id']}"
        [sent] = codepays(fake)
        assert sent.verified and sent.json["payer"] == {"auth_code": CODE}
        assert sent.json["amount"] == {"total": 20556, "currency": "CNY"} and sent.json["out_trade_no"] == body["out_trade_no"]
        assert sent.json["scene_info"]["store_info"]["out_id"] == d.estate.code
        [payment] = await rows(session, Payment)
        tx = fake.orders[body["out_trade_no"]]["transaction_id"]
        assert (payment.method, payment.reference, str(payment.id)) == ("wechat", tx, body["payment_id"])
        [receipt] = await rows(session, Receipt)
        [drawer] = await rows(session, CashierSession)
        assert receipt.series == "receipt" and receipt.cashier_session_id == drawer.id == payment.cashier_session_id
        assert drawer.cashier_id == d.staff.user.id
        assert [await charge_state(session, c) for c in d.charges[:2]] == [("160.56", True), ("45.00", True)]
        shown = await current_drawer(client, d)
        assert shown["expected"]["wechat"] == "205.56" and shown["expected"]["cash"] == "0.00"
        assert {e.type for e in await rows(session, OutboxEvent)} >= {"payment.received", "channel_payment.paid"}
        # The hand-over counts an empty drawer as right: the channel's money is beside it, not in it.
        handed = await client.post(f"{API}/cashier-sessions/{drawer.id}/hand-over", json={"counted_cash": "0.00"},
                                   headers={**d.staff.headers, "Idempotency-Key": str(uuid.uuid4())})
        assert handed.status_code == 200, handed.text
        assert handed.json()["difference"] == "0.00" and handed.json()["expected"]["wechat"] == "205.56"

    async def test_cash_taken_beside_it_is_the_drawers_expected_cash_alone(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        cash = await client.post(f"{API}/units/{d.unit.id}/payments", headers={**d.staff.headers, "Idempotency-Key": "c1"},
                                 json={"method": "cash", "amount": "80.00", "charge_ids": [str(d.charges[2].id)]})
        assert cash.status_code == 201, cash.text
        assert (await scan(client, d)).json()["status"] == "paid"
        shown = await current_drawer(client, d)
        assert (shown["expected"]["cash"], shown["expected"]["wechat"]) == ("80.00", "205.56")
        assert sorted(r.number for r in await rows(session, Receipt)) == [f"{d.estate.code}-2026-000001",
                                                                         f"{d.estate.code}-2026-000002"]

    async def test_the_owner_confirms_on_the_phone_and_the_desk_waits_for_it(self, client, session, fake):
        fake.codes[CODE] = CodeScript(answer="USERPAYING", queries_paying=1)
        d, _ = await configured(client, session, fake)
        r = await scan(client, d)
        assert r.status_code == 201 and r.json()["status"] == "paid", r.text
        no = r.json()["out_trade_no"]
        queries = [s for s in fake.seen if s.path.startswith(f"/v3/pay/transactions/out-trade-no/{no}?")]
        assert len(queries) == 2 and all(q.verified for q in queries) and queries[0].path.endswith(f"mchid={fake.mchid}")
        assert await count_rows(session, Receipt) == 1
        assert not any(s.path.endswith("/reverse") for s in fake.seen)

    async def test_a_retry_with_the_same_key_charges_once(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        first, again = await scan(client, d, key="same"), await scan(client, d, key="same")
        assert again.status_code == 201 and again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert len(codepays(fake)) == 1 and await count_rows(session, Payment) == 1


class TestNotPaid:
    @pytest.mark.parametrize(("code", "status", "words"), [("AUTH_CODE_INVALID", 400, "付款码无效，请重新扫码"),
                                                          ("NOT_ENOUGH", 403, "用户账户余额不足")])
    async def test_refused_by_the_channel_is_failed_with_its_reason(self, client, session, fake, code, status, words):
        fake.codes[CODE] = CodeScript(answer=code, status=status, message=words)
        d, _ = await configured(client, session, fake)
        r = await scan(client, d)
        assert r.status_code == 201, r.text
        assert (r.json()["status"], r.json()["reason"], r.json()["payment_id"]) == ("failed", f"{code}: {words}", None)
        [row] = await rows(session, ChannelPayment)
        assert (row.status, row.reason) == ("failed", f"{code}: {words}")
        assert await count_rows(session, Payment) == 0
        assert [await charge_state(session, c) for c in d.charges[:2]] == [("0.00", False), ("0.00", False)]
        assert [e.type for e in await rows(session, OutboxEvent, OutboxEvent.type.like("channel_payment.%"))] == \
            ["channel_payment.failed"]
        assert await count_rows(session, AuditEntry, AuditEntry.action == "channel_payment.fail") == 1
        seen = await client.get(f"{API}/channel-payments/{r.json()['id']}", headers=d.staff.headers)
        assert seen.json()["reason"] == f"{code}: {words}"

    async def test_the_payment_failing_while_the_owner_confirms_is_failed(self, client, session, fake):
        fake.codes[CODE] = CodeScript(answer="USERPAYING", queries_paying=1, then="PAYERROR")
        d, _ = await configured(client, session, fake)
        r = await scan(client, d)
        assert (r.json()["status"], r.json()["reason"]) == ("failed", "PAYERROR: 支付失败，请重新下单支付")
        assert await count_rows(session, Payment) == 0

    async def test_never_confirmed_in_time_is_reversed_at_the_channel_and_closed(self, client, session, fake, settings):
        fake.codes[CODE] = CodeScript(answer="USERPAYING", queries_paying=None)
        d, _ = await configured(client, session, fake)
        started = time.monotonic()
        r = await scan(client, d)
        took = time.monotonic() - started
        assert settings.channel_code_wait_seconds <= took < settings.channel_code_wait_seconds + 2
        body = r.json()
        assert body["status"] == "closed" and body["payment_id"] is None
        assert body["reason"].startswith("USERPAYING") and body["reason"].endswith("REVOKED: reversed at WeChat Pay")
        [reverse] = [s for s in fake.seen if s.path.endswith("/reverse")]
        assert reverse.verified and reverse.json == {"appid": fake.appid, "mchid": fake.mchid}
        assert fake.orders[body["out_trade_no"]]["trade_state"] == "REVOKED"
        assert await count_rows(session, Payment) == 0 and await count_rows(session, Receipt) == 0
        assert [e.type for e in await rows(session, OutboxEvent, OutboxEvent.type.like("channel_payment.%"))] == \
            ["channel_payment.closed"]
        # The queries came further and further apart: after 0.05, 0.1, 0.2 s... until the window closed.
        assert 2 <= len([s for s in fake.seen if "/out-trade-no/" in s.path and s.method == "GET"]) <= 5

    async def test_a_reverse_refused_falls_back_to_closing_the_order(self, client, session, fake):
        fake.codes[CODE] = CodeScript(answer="USERPAYING", queries_paying=None)
        fake.refuse_reverse = True
        d, _ = await configured(client, session, fake)
        body = (await scan(client, d)).json()
        assert body["status"] == "closed" and body["reason"].endswith("CLOSED: closed at WeChat Pay")
        assert fake.orders[body["out_trade_no"]]["trade_state"] == "CLOSED"
        assert [s.path.rsplit("/", 1)[-1] for s in fake.seen if s.method == "POST"][-2:] == ["reverse", "close"]

    async def test_a_drawer_handed_over_is_refused_before_the_owner_is_charged(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        drawer = await current_drawer(client, d)
        handed = await client.post(f"{API}/cashier-sessions/{drawer['id']}/hand-over", json={"counted_cash": "0.00"},
                                   headers={**d.staff.headers, "Idempotency-Key": str(uuid.uuid4())})
        assert handed.status_code == 200, handed.text
        assert_problem(await scan(client, d), 409, "session-handed-over")
        assert codepays(fake) == [] and await count_rows(session, ChannelPayment) == 0
        assert Decimal(drawer["expected_total"]) == 0
