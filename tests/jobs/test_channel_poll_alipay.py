"""channel_payments_poll with Alipay: a QR paid whose notification never came is booked as the
notification books it; one nobody scanned waits; past its time it is closed at Alipay (or found
never to have reached it) and here."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.domain.audit.model import AuditEntry
from app.domain.events.model import OutboxEvent
from app.domain.fees.channels.model import ChannelPayment
from app.domain.fees.payments.model import Payment, Receipt
from tests.fakes.alipay import FakeAlipay
from tests.helpers.channels import alipay_settings, ask_qr, configured_alipay, poll, poll_job_env, rows
from tests.helpers.payments import charge_state
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


@pytest.fixture
def job_settings(monkeypatch, tmp_path, fake):
    yield from poll_job_env(monkeypatch, tmp_path, ALIPAY_GATEWAY=fake.url)


async def expire(session, out_trade_no: str) -> None:
    await session.execute(update(ChannelPayment).where(ChannelPayment.out_trade_no == out_trade_no)
                          .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    await session.commit()


async def test_a_paid_qr_whose_notification_was_lost_is_booked_once(app, client, session, fake, job_settings):
    d, _ = await configured_alipay(client, session, fake)
    created = (await ask_qr(client, d, channel="alipay")).json()
    fake.pay(created["out_trade_no"])
    assert await poll(app, d) == {"asked": 1, "paid": 1}
    [query] = [s for s in fake.seen if s.method == "alipay.trade.query"]
    assert query.verified and query.biz == {"out_trade_no": created["out_trade_no"]}
    [payment] = await rows(session, Payment)
    trade_no = fake.trades[created["out_trade_no"]]["trade_no"]
    assert (payment.method, payment.reference, payment.cashier_session_id) == ("alipay", trade_no, None)
    [receipt] = await rows(session, Receipt)
    assert receipt.series == "online"
    assert [await charge_state(session, c) for c in d.charges[:2]] == [("160.56", True), ("45.00", True)]
    [paid] = await rows(session, AuditEntry, AuditEntry.action == "channel_payment.pay")
    assert paid.actor_label == "alipay"
    # The notification arriving late is answered success and books nothing more; the next poll asks about nothing.
    assert (await fake.notify(client, created["out_trade_no"])).text == "success"
    assert await count_rows(session, Payment) == 1
    assert await poll(app, d, "2026-12-08T1005") == {"asked": 0}


async def test_a_qr_nobody_scanned_yet_waits(app, client, session, fake, job_settings):
    d, _ = await configured_alipay(client, session, fake)
    await ask_qr(client, d, channel="alipay")
    assert await poll(app, d) == {"asked": 1, "pending": 1}
    assert [s for s in fake.seen if s.method == "alipay.trade.close"] == []


async def test_an_expired_qr_nobody_scanned_is_closed_here(app, client, session, fake, job_settings):
    d, _ = await configured_alipay(client, session, fake)
    created = (await ask_qr(client, d, channel="alipay")).json()
    await expire(session, created["out_trade_no"])
    assert await poll(app, d) == {"asked": 1, "closed": 1}
    [close] = [s for s in fake.seen if s.method == "alipay.trade.close"]
    assert close.verified and close.biz == {"out_trade_no": created["out_trade_no"]}
    [row] = await rows(session, ChannelPayment)
    assert row.status == "closed" and "expired" in row.reason and row.reason.endswith("TRADE_CLOSED: closed at Alipay")
    assert [e.type for e in await rows(session, OutboxEvent, OutboxEvent.type.like("channel_payment.%"))] == \
        ["channel_payment.closed"]


async def test_an_expired_qr_scanned_but_unpaid_is_closed_at_alipay(app, client, session, fake, job_settings):
    d, _ = await configured_alipay(client, session, fake)
    created = (await ask_qr(client, d, channel="alipay")).json()
    fake.scan(created["out_trade_no"])
    await expire(session, created["out_trade_no"])
    assert await poll(app, d) == {"asked": 1, "closed": 1}
    assert fake.trades[created["out_trade_no"]]["trade_status"] == "TRADE_CLOSED"
    [row] = await rows(session, ChannelPayment)
    assert row.status == "closed" and row.reason.startswith("WAIT_BUYER_PAY")
    assert await count_rows(session, Payment) == 0
