"""WeChat Pay Native QR on the bill (扫码支付), end to end over HTTP against a fake WeChat Pay server.

The app's SDK really signs each request and verifies each answer; the fake (tests/fakes/wechatpay.py)
verifies and signs independently, and builds notifications as the channel documents them.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.events.model import OutboxEvent
from app.domain.fees.cash.model import CashierSession
from app.domain.fees.channels.model import ChannelAlert, ChannelCredential, ChannelPayment
from app.domain.fees.payments.model import Payment, Receipt
from app.domain.fees.prepaid.model import AccountBalance
from tests.factories import make_staff
from tests.fakes.wechatpay import FakeWechatPay, new_key
from tests.helpers.payments import Desk, charge_state, desk, pay
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows

API = "/api/v1"
PUBLIC = "https://desk.example.com"


@pytest.fixture
async def fake():
    server = FakeWechatPay()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings, fake):
    """The app talks to the fake, and tells it this public address for notifications."""
    return settings.model_copy(update={"wechatpay_gateway": fake.url, "channel_notify_base_url": PUBLIC})


async def configured(client, session, fake: FakeWechatPay) -> tuple[Desk, object]:
    d = await desk(session)
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    r = await client.put(f"{API}/estates/{d.estate.id}/payment-channels/wechat", json=fake.credentials(), headers=finance.headers)
    assert r.status_code == 200, r.text
    return d, finance


async def qr(client, d: Desk, charges=None, *, key: str | None = None):
    body = {"channel": "wechat", "kind": "native", "charge_ids": [str(c.id) for c in (charges or d.charges[:2])]}
    return await client.post(f"{API}/units/{d.unit.id}/channel-payments", json=body,
                             headers={**d.staff.headers, "Idempotency-Key": key or str(uuid.uuid4())})


async def rows(session, model, *where):
    return list((await session.execute(select(model).where(*where).execution_options(populate_existing=True))).scalars())


class TestCredentials:
    async def test_anonymous_is_401_and_the_desk_403(self, client, session, fake):
        d = await desk(session)
        url = f"{API}/estates/{d.estate.id}/payment-channels/wechat"
        assert (await client.put(url, json=fake.credentials())).status_code == 401
        assert (await client.put(url, json=fake.credentials(), headers=d.staff.headers)).status_code == 403
        assert (await client.get(url, headers=d.staff.headers)).status_code == 403
        assert await count_rows(session, ChannelCredential) == 0

    async def test_finance_of_another_estate_gets_404(self, client, session, fake):
        d = await desk(session)
        outsider = await make_staff(session, estates=[d.other], roles=[Role.finance])
        r = await client.put(f"{API}/estates/{d.estate.id}/payment-channels/wechat", json=fake.credentials(),
                             headers=outsider.headers)
        assert r.status_code == 404
        assert await count_rows(session, ChannelCredential) == 0

    async def test_secrets_are_stored_sealed_and_never_returned(self, client, session, fake):
        d, finance = await configured(client, session, fake)
        got = await client.get(f"{API}/estates/{d.estate.id}/payment-channels/wechat", headers=finance.headers)
        assert got.status_code == 200
        assert got.json()["mchid"] == fake.mchid
        assert sorted(got.json()["secrets_set"]) == ["apiv3_key", "merchant_private_key", "platform_public_key"]
        stored = (await rows(session, ChannelCredential))[0]
        trail = " ".join(str(e.after) for e in await rows(session, AuditEntry, AuditEntry.entity == "channel_credential"))
        for secret in (fake.apiv3_key, "PRIVATE KEY", "PUBLIC KEY"):
            assert secret not in got.text and secret not in stored.sealed and secret not in trail

    async def test_put_again_rotates(self, client, session, fake):
        d, finance = await configured(client, session, fake)
        first = (await rows(session, ChannelCredential))[0].sealed
        fake.merchant, fake.merchant_serial_no = new_key(), "ABCDEF0123456789"
        r = await client.put(f"{API}/estates/{d.estate.id}/payment-channels/wechat", json=fake.credentials(),
                             headers=finance.headers)
        assert r.status_code == 200 and r.json()["merchant_serial_no"] == "ABCDEF0123456789"
        assert [c.sealed != first for c in await rows(session, ChannelCredential)] == [True]
        assert (await qr(client, d)).status_code == 201  # the new key signs, the fake verifies it
        assert fake.seen[-1].verified

    @pytest.mark.parametrize(("field", "value"), [("merchant_private_key", "-----BEGIN PRIVATE KEY-----\nnope"),
                                                  ("apiv3_key", "short"), ("platform_public_key", "x"),
                                                  ("appid", "not-an-app"), ("mchid", "19x")])
    async def test_bad_input_is_422_naming_the_field_and_writes_nothing(self, client, session, fake, field, value):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        r = await client.put(f"{API}/estates/{d.estate.id}/payment-channels/wechat", json=fake.credentials(**{field: value}),
                             headers=finance.headers)
        assert_422(r, field)
        assert await count_rows(session, ChannelCredential) == 0


class TestQrCode:
    async def test_the_channel_gets_a_signed_order_for_exactly_what_is_owed(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        r = await qr(client, d)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "pending" and body["amount"] == "205.56" and body["code_url"].startswith("weixin://wxpay/")
        [order] = [s for s in fake.seen if s.path == "/v3/pay/transactions/native"]
        assert order.verified
        assert order.json["amount"] == {"total": 20556, "currency": "CNY"}
        assert order.json["out_trade_no"] == body["out_trade_no"] and order.json["mchid"] == fake.mchid
        assert order.json["notify_url"] == f"{PUBLIC}/api/v1/payment-channels/wechat/notify/{d.estate.id}"
        assert order.json["time_expire"].endswith("+08:00")
        assert await count_rows(session, Payment) == 0

    async def test_a_retry_with_the_same_key_orders_once(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        same = str(uuid.uuid4())
        first, again = await qr(client, d, key=same), await qr(client, d, key=same)
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert len(fake.orders) == 1

    async def test_without_a_key_422_and_without_credentials_409(self, client, session, fake):
        d = await desk(session)
        r = await client.post(f"{API}/units/{d.unit.id}/channel-payments", headers=d.staff.headers,
                              json={"channel": "wechat", "kind": "native", "charge_ids": [str(d.charges[0].id)]})
        assert_422(r, "Idempotency-Key")
        assert_problem(await qr(client, d), 409, "channel-not-configured")
        assert fake.seen == []


async def paid_qr(client, session, fake, charges=None):
    d, finance = await configured(client, session, fake)
    created = (await qr(client, d, charges)).json()
    return d, created, fake.pay(created["out_trade_no"])


class TestNotification:
    async def test_paid_settles_the_charges_with_an_online_receipt_in_no_drawer(self, client, session, fake):
        d, created, tx = await paid_qr(client, session, fake)
        r = await fake.notify(client, created["out_trade_no"])
        assert (r.status_code, r.json()) == (200, {"code": "SUCCESS"})
        assert [await charge_state(session, c) for c in d.charges] == [("160.56", True), ("45.00", True), ("0.00", False)]
        [payment] = await rows(session, Payment)
        assert (payment.method, payment.reference, payment.cashier_session_id) == ("wechat", tx["transaction_id"], None)
        [receipt] = await rows(session, Receipt)
        assert receipt.series == "online" and receipt.number.startswith(f"{d.estate.code}-W-") and receipt.seq == 1
        assert receipt.cashier_session_id is None and receipt.amount == Decimal("205.56")
        assert await count_rows(session, CashierSession) == 0
        [row] = await rows(session, ChannelPayment)
        assert (row.status, row.transaction_id, row.payment_id) == ("paid", tx["transaction_id"], payment.id)
        assert {e.type for e in await rows(session, OutboxEvent)} >= {"payment.received", "channel_payment.paid"}
        read = await client.get(f"{API}/receipts/{receipt.id}", headers=d.staff.headers)
        assert read.status_code == 200 and read.json()["method"] == "wechat" and read.json()["cashier_session_id"] is None
        assert (await client.get(f"{API}/receipts/{receipt.id}/pdf", headers=d.staff.headers)).status_code == 200

    async def test_the_desk_polls_the_qr_payment_until_it_is_paid(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        made = await qr(client, d)
        assert made.status_code == 201, made.text
        place = made.headers["location"]
        assert place == f"{API}/channel-payments/{made.json()['id']}"
        before = await client.get(place, headers=d.staff.headers)
        assert (before.status_code, before.json()["status"], before.json()["payment_id"]) == (200, "pending", None)
        fake.pay(made.json()["out_trade_no"])
        assert (await fake.notify(client, made.json()["out_trade_no"])).status_code == 200
        after = (await client.get(place, headers=d.staff.headers)).json()
        [payment] = await rows(session, Payment)
        assert (after["status"], after["payment_id"]) == ("paid", str(payment.id))
        stranger = await make_staff(session, estates=[d.other], roles=[Role.receptionist])
        assert_problem(await client.get(place, headers=stranger.headers), 404, "channel-payment-not-found")
        assert_problem(await client.get(f"{API}/channel-payments/{uuid.uuid4()}", headers=d.staff.headers),
                       404, "channel-payment-not-found")

    async def test_twenty_identical_notifications_at_once_book_one_receipt(self, client, session, fake):
        d, created, tx = await paid_qr(client, session, fake)
        prepared = fake.notification(tx)
        answers = await asyncio.gather(*[fake.notify(client, created["out_trade_no"], prepared=prepared) for _ in range(20)])
        assert [(a.status_code, a.json()["code"]) for a in answers] == [(200, "SUCCESS")] * 20
        assert await count_rows(session, Payment) == 1 and await count_rows(session, Receipt) == 1
        # The next one numbers on, without a gap.
        second = (await qr(client, d, [d.charges[2]])).json()
        fake.pay(second["out_trade_no"])
        assert (await fake.notify(client, second["out_trade_no"])).status_code == 200
        assert sorted(r.seq for r in await rows(session, Receipt)) == [1, 2]

    async def test_a_forged_signature_is_refused_and_books_nothing(self, client, session, fake):
        _, created, _ = await paid_qr(client, session, fake)
        r = await fake.notify(client, created["out_trade_no"], signer=new_key())
        assert r.status_code == 401 and r.json()["code"] == "FAIL"
        assert await count_rows(session, Payment) == 0 and await count_rows(session, ChannelAlert) == 0
        assert [p.status for p in await rows(session, ChannelPayment)] == ["pending"]

    async def test_another_serial_is_refused(self, client, session, fake):
        _, created, _ = await paid_qr(client, session, fake)
        r = await fake.notify(client, created["out_trade_no"], serial="PUB_KEY_ID_0000")
        assert r.status_code == 401 and r.json()["code"] == "FAIL"
        assert await count_rows(session, Payment) == 0

    async def test_a_notification_too_old_is_refused_though_well_signed(self, client, session, fake):
        _, created, _ = await paid_qr(client, session, fake)
        r = await fake.notify(client, created["out_trade_no"], timestamp=int(time.time()) - 600)
        assert r.status_code == 401 and r.json() == {"code": "FAIL", "message": "Wechatpay-Timestamp is outside the accepted window"}
        assert await count_rows(session, Payment) == 0

    async def test_an_amount_mismatch_is_an_alert_and_books_nothing(self, client, session, fake):
        d, created, tx = await paid_qr(client, session, fake)
        wrong = {**tx, "amount": {**tx["amount"], "total": tx["amount"]["total"] - 1}}
        prepared = fake.notification(wrong)
        for _ in range(2):
            r = await fake.notify(client, created["out_trade_no"], prepared=prepared)
            assert (r.status_code, r.json()) == (200, {"code": "SUCCESS"})
        assert await count_rows(session, Payment) == 0
        [alert] = await rows(session, ChannelAlert)
        assert alert.reason == "amount_mismatch" and alert.detail["total"] == 20555
        assert [e.type for e in await rows(session, OutboxEvent, OutboxEvent.type == "channel.alert")] == ["channel.alert"]
        assert await count_rows(session, AuditEntry, AuditEntry.action == "channel.alert") == 1
        assert [p.status for p in await rows(session, ChannelPayment)] == ["pending"]

    async def test_another_merchant_is_an_alert(self, client, session, fake):
        _, created, tx = await paid_qr(client, session, fake)
        r = await fake.notify(client, created["out_trade_no"], resource={**tx, "mchid": "1900000999"})
        assert r.status_code == 200
        assert [a.reason for a in await rows(session, ChannelAlert)] == ["merchant_mismatch"]
        assert await count_rows(session, Payment) == 0

    async def test_paid_at_the_desk_meanwhile_the_money_goes_on_account(self, client, session, fake):
        d, finance = await configured(client, session, fake)
        created = (await qr(client, d, [d.charges[0]])).json()
        desk_paid = await pay(client, d, charge_ids=[str(d.charges[0].id)], amount="160.56")
        assert desk_paid.status_code == 201, desk_paid.text
        fake.pay(created["out_trade_no"])
        r = await fake.notify(client, created["out_trade_no"])
        assert r.status_code == 200
        online = [p for p in await rows(session, Payment) if p.method == "wechat"]
        assert [(p.amount, p.credit) for p in online] == [(Decimal("160.56"), Decimal("160.56"))]
        [balance] = await rows(session, AccountBalance, AccountBalance.unit_id == d.unit.id)
        assert balance.balance == Decimal("160.56")
        assert [a.reason for a in await rows(session, ChannelAlert)] == ["settled_meanwhile"]
        assert await charge_state(session, d.charges[0]) == ("160.56", True)

    async def test_credentials_sealed_under_another_secret_answer_503_fail(self, client, session, fake, app):
        _, created, _ = await paid_qr(client, session, fake)
        app.state.settings = app.state.settings.model_copy(update={"secret": "another-secret-after-a-rotation-0b9e"})
        r = await fake.notify(client, created["out_trade_no"])
        assert r.status_code == 503 and r.json()["code"] == "FAIL"
        assert await count_rows(session, Payment) == 0

    async def test_unknown_estate_is_404_fail(self, client, session, fake):
        r = await client.post(f"{API}/payment-channels/wechat/notify/{uuid.uuid4()}", content=b"{}")
        assert r.status_code == 404 and r.json()["code"] == "FAIL"
