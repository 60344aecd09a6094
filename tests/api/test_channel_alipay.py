"""Alipay QR on the bill (当面付扫码, alipay.trade.precreate), end to end over HTTP against a fake Alipay gateway.

The app's SDK (python-alipay-sdk) really signs each request with the app key and verifies each
answer with the Alipay key; the fake (tests/fakes/alipay.py) verifies and signs independently,
and builds asynchronous notifications as Alipay documents them.
"""
from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.events.model import OutboxEvent
from app.domain.fees.cash.model import CashierSession
from app.domain.fees.channels.model import ChannelAlert, ChannelCredential, ChannelPayment
from app.domain.fees.payments.model import Payment, Receipt
from tests.factories import make_staff
from tests.fakes.alipay import BEIJING, FakeAlipay, new_key
from tests.helpers.payments import Desk, charge_state, desk
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows

API = "/api/v1"
PUBLIC = "https://desk.example.com"


@pytest.fixture
async def fake():
    server = FakeAlipay()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings, fake):
    """The app talks to the fake gateway, and tells it this public address for notifications."""
    return settings.model_copy(update={"alipay_gateway": fake.url, "channel_notify_base_url": PUBLIC})


def url(d: Desk) -> str:
    return f"{API}/estates/{d.estate.id}/payment-channels/alipay"


async def configured(client, session, fake: FakeAlipay) -> tuple[Desk, object]:
    d = await desk(session)
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    r = await client.put(url(d), json=fake.credentials(), headers=finance.headers)
    assert r.status_code == 200, r.text
    return d, finance


async def qr(client, d: Desk, charges=None, *, key: str | None = None):
    body = {"channel": "alipay", "kind": "native", "charge_ids": [str(c.id) for c in (charges or d.charges[:2])]}
    return await client.post(f"{API}/units/{d.unit.id}/channel-payments", json=body,
                             headers={**d.staff.headers, "Idempotency-Key": key or str(uuid.uuid4())})


async def rows(session, model, *where):
    return list((await session.execute(select(model).where(*where).execution_options(populate_existing=True))).scalars())


def bare(pem: str) -> str:
    """A key as Alipay's key tool and open platform show it: base64 without the PEM lines."""
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


class TestCredentials:
    async def test_anonymous_is_401_the_desk_403_and_another_estate_404(self, client, session, fake):
        d = await desk(session)
        outsider = await make_staff(session, estates=[d.other], roles=[Role.finance])
        assert (await client.put(url(d), json=fake.credentials())).status_code == 401
        assert (await client.put(url(d), json=fake.credentials(), headers=d.staff.headers)).status_code == 403
        assert (await client.get(url(d), headers=d.staff.headers)).status_code == 403
        assert_problem(await client.put(url(d), json=fake.credentials(), headers=outsider.headers), 404, "estate-not-found")
        assert await count_rows(session, ChannelCredential) == 0

    async def test_secrets_are_stored_sealed_and_never_returned(self, client, session, fake):
        d, finance = await configured(client, session, fake)
        got = await client.get(url(d), headers=finance.headers)
        assert got.status_code == 200
        body = got.json()
        assert (body["app_id"], body["seller_id"], body["channel"]) == (fake.app_id, fake.seller_id, "alipay")
        assert sorted(body["secrets_set"]) == ["alipay_public_key", "app_private_key"]
        [stored] = await rows(session, ChannelCredential)
        trail = " ".join(str(e.after) for e in await rows(session, AuditEntry, AuditEntry.entity == "channel_credential"))
        for secret in ("PRIVATE KEY", "PUBLIC KEY", bare(fake.credentials()["app_private_key"])[40:80]):
            assert secret not in got.text and secret not in stored.sealed and secret not in trail

    async def test_get_before_any_put_is_404(self, client, session, fake):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        assert_problem(await client.get(url(d), headers=finance.headers), 404, "credentials-not-set")

    async def test_put_again_rotates_and_the_new_key_signs(self, client, session, fake):
        d, finance = await configured(client, session, fake)
        first = (await rows(session, ChannelCredential))[0].sealed
        fake.app = new_key()
        # As the key tool writes them: bare base64, the private key in PKCS#1 (the non-Java form).
        pkcs1 = fake.app.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()).decode()
        public = fake.alipay.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        r = await client.put(url(d), json=fake.credentials(app_private_key=bare(pkcs1), alipay_public_key=bare(public)),
                             headers=finance.headers)
        assert r.status_code == 200, r.text
        assert [c.sealed != first for c in await rows(session, ChannelCredential)] == [True]
        assert (await qr(client, d)).status_code == 201
        assert fake.seen[-1].verified

    async def test_wechat_and_alipay_are_configured_side_by_side(self, client, session, fake):
        d, finance = await configured(client, session, fake)
        assert_problem(await client.get(f"{API}/estates/{d.estate.id}/payment-channels/wechat", headers=finance.headers),
                       404, "credentials-not-set")
        assert [c.channel for c in await rows(session, ChannelCredential)] == ["alipay"]

    @pytest.mark.parametrize(("field", "value"), [
        ("app_private_key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ"), ("alipay_public_key", "x"),
        ("app_id", "wxd678efh567hg6787"), ("seller_id", "1900000109"), ("app_id", "2021")])
    async def test_bad_input_is_422_naming_the_field_and_writes_nothing(self, client, session, fake, field, value):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        assert_422(await client.put(url(d), json=fake.credentials(**{field: value}), headers=finance.headers), field)
        assert await count_rows(session, ChannelCredential) == 0

    async def test_a_short_key_is_refused(self, client, session, fake):
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        pem = short.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        assert_422(await client.put(url(d), json=fake.credentials(app_private_key=pem), headers=finance.headers),
                   "app_private_key")


class TestQrCode:
    async def test_the_gateway_gets_a_signed_precreate_for_exactly_what_is_owed(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        r = await qr(client, d)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["status"], body["channel"], body["amount"]) == ("pending", "alipay", "205.56")
        assert body["code_url"].startswith("https://qr.alipay.com/")
        [order] = [s for s in fake.seen if s.method == "alipay.trade.precreate"]
        assert order.verified and order.params["sign_type"] == "RSA2" and order.params["app_id"] == fake.app_id
        assert order.biz["total_amount"] == "205.56" and order.biz["out_trade_no"] == body["out_trade_no"]
        assert order.biz["subject"].startswith("物业费")
        assert order.params["notify_url"] == f"{PUBLIC}/api/v1/payment-channels/alipay/notify/{d.estate.id}"
        # Valid for the set time: time_expire is the answer's expires_at, in Beijing time.
        expires = datetime.fromisoformat(body["expires_at"]).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        assert order.biz["time_expire"] == expires
        assert await count_rows(session, Payment) == 0

    async def test_a_retry_with_the_same_key_orders_once(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        same = str(uuid.uuid4())
        first, again = await qr(client, d, key=same), await qr(client, d, key=same)
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert len(fake.trades) == 1

    async def test_a_key_alipay_does_not_know_is_refused_409_naming_its_code(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        fake.app = new_key()  # the app's public key on the open platform changed; ours did not
        body = assert_problem(await qr(client, d), 409, "channel-refused")
        assert body["channel_code"] == "isv.invalid-signature"
        assert await count_rows(session, ChannelPayment) == 0

    async def test_an_answer_not_signed_by_alipay_is_503(self, client, session, fake):
        d, _ = await configured(client, session, fake)
        fake.alipay = new_key()
        assert_problem(await qr(client, d), 503, "channel-unavailable")
        assert await count_rows(session, ChannelPayment) == 0

    async def test_a_gateway_that_does_not_answer_is_503(self, client, session, fake, app):
        d, _ = await configured(client, session, fake)
        app.state.settings = app.state.settings.model_copy(update={"alipay_gateway": "http://127.0.0.1:9/gateway.do"})
        assert_problem(await qr(client, d), 503, "channel-unavailable")

    async def test_without_credentials_409(self, client, session, fake):
        d = await desk(session)
        assert_problem(await qr(client, d), 409, "channel-not-configured")
        assert fake.seen == []


async def paid_qr(client, session, fake, charges=None):
    d, finance = await configured(client, session, fake)
    created = (await qr(client, d, charges)).json()
    return d, created, fake.pay(created["out_trade_no"])


class TestNotification:
    async def test_paid_settles_the_charges_with_an_online_receipt_in_no_drawer(self, client, session, fake):
        d, created, params = await paid_qr(client, session, fake)
        r = await fake.notify(client, created["out_trade_no"])
        assert (r.status_code, r.text) == (200, "success")
        assert [await charge_state(session, c) for c in d.charges] == [("160.56", True), ("45.00", True), ("0.00", False)]
        [payment] = await rows(session, Payment)
        assert (payment.method, payment.reference, payment.cashier_session_id) == ("alipay", params["trade_no"], None)
        [receipt] = await rows(session, Receipt)
        assert receipt.series == "online" and receipt.number.startswith(f"{d.estate.code}-W-") and receipt.seq == 1
        assert receipt.amount == Decimal("205.56") and await count_rows(session, CashierSession) == 0
        [row] = await rows(session, ChannelPayment)
        assert (row.status, row.transaction_id, row.payment_id) == ("paid", params["trade_no"], payment.id)
        assert row.paid_at == datetime.strptime(params["gmt_payment"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        assert {e.type for e in await rows(session, OutboxEvent)} >= {"payment.received", "channel_payment.paid"}
        read = await client.get(f"{API}/channel-payments/{created['id']}", headers=d.staff.headers)
        assert (read.json()["status"], read.json()["payment_id"]) == ("paid", str(payment.id))

    async def test_trade_finished_books_too_and_told_again_books_once(self, client, session, fake):
        _, created, params = await paid_qr(client, session, fake)
        for status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            r = await fake.notify(client, created["out_trade_no"], params={**params, "trade_status": status})
            assert (r.status_code, r.text) == (200, "success")
        assert await count_rows(session, Payment) == 1 and await count_rows(session, ChannelAlert) == 0

    async def test_twenty_identical_notifications_at_once_book_one_receipt(self, client, session, fake):
        d, created, params = await paid_qr(client, session, fake)
        body = fake.notification(params)
        answers = await asyncio.gather(*[fake.notify(client, created["out_trade_no"], body=body) for _ in range(20)])
        assert [(a.status_code, a.text) for a in answers] == [(200, "success")] * 20
        assert await count_rows(session, Payment) == 1 and await count_rows(session, Receipt) == 1
        second = (await qr(client, d, [d.charges[2]])).json()
        fake.pay(second["out_trade_no"])
        assert (await fake.notify(client, second["out_trade_no"])).text == "success"
        assert sorted(r.seq for r in await rows(session, Receipt)) == [1, 2]  # gapless

    async def test_a_forged_sign_is_refused_and_books_nothing(self, client, session, fake):
        _, created, _ = await paid_qr(client, session, fake)
        r = await fake.notify(client, created["out_trade_no"], signer=new_key())
        assert (r.status_code, r.text) == (401, "failure")
        assert await count_rows(session, Payment) == 0 and await count_rows(session, ChannelAlert) == 0
        assert [p.status for p in await rows(session, ChannelPayment)] == ["pending"]

    @pytest.mark.parametrize("change", ["amount_after_signing", "no_sign", "rsa_not_rsa2"])
    async def test_a_tampered_or_unsigned_form_is_refused(self, client, session, fake, change):
        _, created, params = await paid_qr(client, session, fake)
        form = dict(pair.split("=", 1) for pair in fake.notification(params).decode().split("&"))
        if change == "amount_after_signing":
            form["total_amount"] = "0.01"
        elif change == "no_sign":
            del form["sign"]
        else:
            form["sign_type"] = "RSA"
        r = await fake.notify(client, created["out_trade_no"], body="&".join(f"{k}={v}" for k, v in form.items()).encode())
        assert (r.status_code, r.text) == (401, "failure")
        assert await count_rows(session, Payment) == 0

    @pytest.mark.parametrize(("field", "value", "reason"), [
        ("total_amount", "205.55", "amount_mismatch"), ("seller_id", "2088000000000001", "merchant_mismatch"),
        ("app_id", "2021000000000001", "merchant_mismatch"), ("out_trade_no", "PDNOTOURS", "unknown_order")])
    async def test_a_signed_word_that_is_not_our_order_is_an_alert_never_a_booking(self, client, session, fake, field,
                                                                                  value, reason):
        _, created, params = await paid_qr(client, session, fake)
        body = fake.notification({**params, field: value})
        for _ in range(2):
            r = await fake.notify(client, created["out_trade_no"], body=body)
            assert (r.status_code, r.text) == (200, "success")  # received; Alipay asking again changes nothing
        assert await count_rows(session, Payment) == 0
        [alert] = await rows(session, ChannelAlert)
        assert (alert.channel, alert.reason, alert.notification_id) == ("alipay", reason, params["notify_id"])
        assert [p.status for p in await rows(session, ChannelPayment)] == ["pending"]
        assert await count_rows(session, OutboxEvent, OutboxEvent.type == "channel.alert") == 1

    async def test_waiting_for_the_buyer_changes_nothing_and_closed_closes(self, client, session, fake):
        _, created, _ = await paid_qr(client, session, fake)
        no = created["out_trade_no"]
        waiting = await fake.notify(client, no, params=fake.parameters(no, trade_status="WAIT_BUYER_PAY"))
        assert (waiting.text, [p.status for p in await rows(session, ChannelPayment)]) == ("success", ["pending"])
        closed = await fake.notify(client, no, params=fake.parameters(no, trade_status="TRADE_CLOSED"))
        assert closed.text == "success"
        [row] = await rows(session, ChannelPayment)
        assert row.status == "closed" and "TRADE_CLOSED" in row.reason and await count_rows(session, Payment) == 0
        # Paid after all (a late word on a closed order): finance looks, nothing is booked.
        late = await fake.notify(client, no, params=fake.parameters(no, trade_status="TRADE_SUCCESS"))
        assert late.text == "success" and [a.reason for a in await rows(session, ChannelAlert)] == ["not_pending"]
        assert await count_rows(session, Payment) == 0

    async def test_credentials_sealed_under_another_secret_answer_503_failure(self, client, session, fake, app):
        _, created, _ = await paid_qr(client, session, fake)
        app.state.settings = app.state.settings.model_copy(update={"secret": "another-secret-after-a-rotation-0b9e"})
        r = await fake.notify(client, created["out_trade_no"])
        assert (r.status_code, r.text) == (503, "failure")
        assert await count_rows(session, Payment) == 0

    async def test_unknown_estate_is_404_and_a_body_not_utf8_401(self, client, session, fake):
        r = await client.post(f"{API}/payment-channels/alipay/notify/{uuid.uuid4()}", content=urlencode({"a": "b"}).encode())
        assert (r.status_code, r.text) == (404, "failure")
        r = await client.post(f"{API}/payment-channels/alipay/notify/{uuid.uuid4()}", content=base64.b64decode("/w=="))
        assert (r.status_code, r.text) == (401, "failure")
