"""The counter (条码支付) with Alipay, over HTTP against the fake Alipay gateway: the receptionist
scans the owner's Alipay payment code; alipay.trade.pay (scene bar_code) is paid at once, or
10003 while the owner confirms (queried until paid), refused with its sub_code (failed), or never
confirmed in time (cancelled at Alipay, closed). Paid books through the notification's own path,
into the receptionist's drawer under method alipay."""
from __future__ import annotations

import asyncio
import time

import pytest

from app.domain.events.model import OutboxEvent
from app.domain.fees.cash.model import CashierSession
from app.domain.fees.channels.model import ChannelAlert, ChannelPayment
from app.domain.fees.payments.model import Payment, Receipt
from tests.fakes.alipay import FakeAlipay
from tests.helpers.channels import ALIPAY_CODE, API, CODE, PUBLIC, alipay_settings, configured_alipay, rows, scan
from tests.helpers.payments import charge_state, desk
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows


@pytest.fixture
async def fake():
    server = FakeAlipay()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings, fake):
    return alipay_settings(settings, fake)


def calls(fake: FakeAlipay, method: str):
    return [s for s in fake.seen if s.method == method]


def notified_here(fake: FakeAlipay, d, out_trade_no: str) -> None:
    """A counter trade names no notify_url; an office that set an app-level notification address
    on the open platform gets its notifications all the same."""
    fake.trades[out_trade_no]["notify_url"] = f"{PUBLIC}/api/v1/payment-channels/alipay/notify/{d.estate.id}"


async def pay(client, d, **kw):
    return await scan(client, d, channel="alipay", auth_code=kw.pop("auth_code", ALIPAY_CODE), **kw)


class TestBadInput:
    @pytest.mark.parametrize("code", [CODE, "2845678901234", "31" + "0" * 16, "28" + "0" * 23, "28456789012345678x", ""])
    async def test_a_code_that_is_not_an_alipay_payment_code_is_422_naming_it(self, client, session, fake, code):
        d, _ = await configured_alipay(client, session, fake)
        assert_422(await pay(client, d, auth_code=code), "auth_code")
        assert fake.seen == [] and await count_rows(session, ChannelPayment) == 0

    async def test_no_alipay_app_is_409_and_nothing_is_charged(self, client, session, fake):
        d = await desk(session)
        assert_problem(await pay(client, d), 409, "channel-not-configured")
        assert fake.seen == [] and await count_rows(session, ChannelPayment) == 0


class TestPaid:
    async def test_paid_at_once_books_into_the_drawer_under_alipay(self, client, session, fake):
        d, _ = await configured_alipay(client, session, fake)
        r = await pay(client, d)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["status"], body["channel"], body["kind"], body["amount"]) == ("paid", "alipay", "codepay", "205.56")
        [sent] = calls(fake, "alipay.trade.pay")
        assert sent.verified and "notify_url" not in sent.params  # the desk has the answer; see alipay_link.py
        assert (sent.biz["scene"], sent.biz["auth_code"], sent.biz["total_amount"]) == ("bar_code", ALIPAY_CODE, "205.56")
        assert sent.biz["out_trade_no"] == body["out_trade_no"]
        trade = fake.trades[body["out_trade_no"]]
        [payment] = await rows(session, Payment)
        assert (payment.method, payment.reference, str(payment.id)) == ("alipay", trade["trade_no"], body["payment_id"])
        [drawer] = await rows(session, CashierSession)
        [receipt] = await rows(session, Receipt)
        assert receipt.series == "receipt" and receipt.cashier_session_id == drawer.id == payment.cashier_session_id
        assert [await charge_state(session, c) for c in d.charges[:2]] == [("160.56", True), ("45.00", True)]
        shown = await client.get(f"{API}/estates/{d.estate.id}/cashier-sessions/current", headers=d.staff.headers)
        assert shown.json()["expected"]["alipay"] == "205.56" and shown.json()["expected"]["cash"] == "0.00"
        assert {e.type for e in await rows(session, OutboxEvent)} >= {"payment.received", "channel_payment.paid"}

    async def test_its_notification_and_a_duplicate_book_nothing_more(self, client, session, fake):
        d, _ = await configured_alipay(client, session, fake)
        body = (await pay(client, d)).json()
        notified_here(fake, d, body["out_trade_no"])
        answers = await asyncio.gather(*[fake.notify(client, body["out_trade_no"]) for _ in range(5)])
        assert [a.text for a in answers] == ["success"] * 5
        assert await count_rows(session, Payment) == 1 and await count_rows(session, Receipt) == 1
        assert await count_rows(session, ChannelAlert) == 0

    async def test_the_owner_confirms_on_the_phone_and_the_desk_waits_for_it(self, client, session, fake):
        fake.codes[ALIPAY_CODE], fake.confirms_after = "paying", 2
        d, _ = await configured_alipay(client, session, fake)
        r = await pay(client, d)
        assert r.status_code == 201 and r.json()["status"] == "paid", r.text
        queries = calls(fake, "alipay.trade.query")
        assert len(queries) == 2 and all(q.verified and q.biz == {"out_trade_no": r.json()["out_trade_no"]} for q in queries)
        assert calls(fake, "alipay.trade.cancel") == [] and await count_rows(session, Receipt) == 1


class TestNotPaid:
    async def test_refused_by_alipay_is_failed_with_its_sub_code(self, client, session, fake):
        fake.codes[ALIPAY_CODE] = "ACQ.BUYER_BALANCE_NOT_ENOUGH"
        d, _ = await configured_alipay(client, session, fake)
        r = await pay(client, d)
        assert r.status_code == 201, r.text
        assert (r.json()["status"], r.json()["reason"], r.json()["payment_id"]) == \
            ("failed", "ACQ.BUYER_BALANCE_NOT_ENOUGH: 支付失败", None)
        assert await count_rows(session, Payment) == 0
        assert [await charge_state(session, c) for c in d.charges[:2]] == [("0.00", False), ("0.00", False)]
        assert [e.type for e in await rows(session, OutboxEvent, OutboxEvent.type.like("channel_payment.%"))] == \
            ["channel_payment.failed"]

    async def test_a_code_alipay_cannot_read_is_failed(self, client, session, fake):
        d, _ = await configured_alipay(client, session, fake)
        r = await pay(client, d, auth_code="30" + "0" * 22)  # well formed; the fake takes 16 to 24 digits
        assert r.json()["status"] == "paid"
        fake.codes["2500000000000000"] = "ACQ.PAYMENT_AUTH_CODE_INVALID"
        r = await pay(client, d, auth_code="2500000000000000", charges=[d.charges[2]])
        assert (r.json()["status"], r.json()["reason"]) == ("failed", "ACQ.PAYMENT_AUTH_CODE_INVALID: 支付失败")

    async def test_never_confirmed_in_time_is_cancelled_at_alipay_and_closed(self, client, session, fake, settings):
        fake.codes[ALIPAY_CODE] = "paying"
        d, _ = await configured_alipay(client, session, fake)
        started = time.monotonic()
        body = (await pay(client, d)).json()
        assert settings.channel_code_wait_seconds <= time.monotonic() - started < settings.channel_code_wait_seconds + 3
        assert body["status"] == "closed" and body["payment_id"] is None
        assert body["reason"].startswith("WAIT_BUYER_PAY") and body["reason"].endswith("TRADE_CLOSED: cancelled at Alipay")
        [cancel] = calls(fake, "alipay.trade.cancel")
        assert cancel.verified and cancel.biz == {"out_trade_no": body["out_trade_no"]}
        assert fake.trades[body["out_trade_no"]]["trade_status"] == "TRADE_CLOSED"
        assert await count_rows(session, Payment) == 0 and await count_rows(session, Receipt) == 0
        # Alipay's late word that it was paid after all is put before finance, never booked.
        notified_here(fake, d, body["out_trade_no"])
        late = fake.parameters(body["out_trade_no"], trade_status="TRADE_SUCCESS")
        assert (await fake.notify(client, body["out_trade_no"], params=late)).text == "success"
        assert await count_rows(session, Payment) == 0
        [alert] = await rows(session, ChannelAlert)
        assert alert.reason == "not_pending"
