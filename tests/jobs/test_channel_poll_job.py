"""channel_payments_poll: every five minutes the channel is asked about what is still pending.

A QR paid whose notification never came is booked as the notification books it; the poll and
the notification racing book once; a QR past its time is closed at the channel and here; a
payment code the channel could not answer at the desk is settled later."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.config import get_settings
from app.domain.events.model import OutboxEvent
from app.domain.fees.cash.model import CashierSession
from app.domain.fees.channels.model import ChannelPayment
from app.domain.fees.payments.model import Payment, Receipt
from app.jobs.registry import JOBS
from app.jobs.runner import recent_fire_times
from tests.fakes.wechatpay import CodeScript, FakeWechatPay
from tests.helpers.channels import CODE, POLL_JOB, ask_qr, channel_settings, configured, poll, poll_job_env, rows, scan
from tests.helpers.payments import charge_state
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


@pytest.fixture
def job_settings(monkeypatch, tmp_path, fake):
    yield from poll_job_env(monkeypatch, tmp_path, WECHATPAY_GATEWAY=fake.url)


def test_runs_every_five_minutes_per_estate():
    spec = JOBS[POLL_JOB]
    assert (spec.cron, spec.period_kind, spec.per_estate) == ("*/5 * * * *", "five_minutes", True)
    fires = recent_fire_times(spec.trigger("Asia/Shanghai"), now=datetime(2026, 12, 8, 2, 13, tzinfo=UTC), count=2)
    assert [spec.period_of(f) for f in fires] == ["2026-12-08T1005", "2026-12-08T1010"]
    spec.check_period("2026-12-08T1055")


async def test_a_paid_qr_whose_notification_was_lost_is_booked_once(app, client, session, fake, job_settings):
    d, _ = await configured(client, session, fake)
    created = (await ask_qr(client, d)).json()
    tx = fake.pay(created["out_trade_no"])
    assert await poll(app, d) == {"asked": 1, "paid": 1}
    [payment] = await rows(session, Payment)
    assert (payment.method, payment.reference, payment.cashier_session_id) == ("wechat", tx["transaction_id"], None)
    [receipt] = await rows(session, Receipt)
    assert receipt.series == "online" and receipt.number.startswith(f"{d.estate.code}-W-")
    assert [await charge_state(session, c) for c in d.charges[:2]] == [("160.56", True), ("45.00", True)]
    [row] = await rows(session, ChannelPayment)
    assert (row.status, row.transaction_id) == ("paid", tx["transaction_id"])
    # The notification arriving late is answered SUCCESS and books nothing more; the next poll asks about nothing.
    late = await fake.notify(client, created["out_trade_no"])
    assert (late.status_code, late.json()) == (200, {"code": "SUCCESS"})
    assert await count_rows(session, Payment) == 1
    assert await poll(app, d, "2026-12-08T1005") == {"asked": 0}


async def test_unpaid_and_young_payments_are_left_pending(app, client, session, fake, job_settings, monkeypatch):
    d, _ = await configured(client, session, fake)
    await ask_qr(client, d)
    assert await poll(app, d) == {"asked": 1, "pending": 1}
    monkeypatch.setenv("PROPDESK_CHANNEL_POLL_AFTER_SECONDS", "600")
    get_settings.cache_clear()
    assert await poll(app, d) == {"asked": 0}  # the notification has time to come first
    assert [r.status for r in await rows(session, ChannelPayment)] == ["pending"]


# The notifications set off as the poll starts, while it asks the channel, and while it books.
@pytest.mark.parametrize("head_start", [0.0, 0.7, 0.9, 2.0])
async def test_the_poll_and_notifications_racing_book_each_payment_once(app, client, session, fake, job_settings, head_start):
    d, _ = await configured(client, session, fake)
    made = [(await ask_qr(client, d, [c])).json() for c in d.charges]
    for m in made:
        fake.pay(m["out_trade_no"])
    prepared = [fake.notification(fake.transaction(m["out_trade_no"])) for m in made]

    async def notify(m, p, delay):
        await asyncio.sleep(delay)
        return await fake.notify(client, m["out_trade_no"], prepared=p)

    racing = [notify(m, p, head_start + 0.1 * n + 0.05 * k) for n, (m, p) in enumerate(zip(made, prepared, strict=True)) for k in range(3)]
    summary, *answers = await asyncio.gather(poll(app, d), *racing)
    assert [a.json()["code"] for a in answers] == ["SUCCESS"] * 9
    assert summary == {"asked": 3, "paid": 3}
    assert await count_rows(session, Payment) == 3
    assert sorted(r.seq for r in await rows(session, Receipt)) == [1, 2, 3]  # one receipt each, no gap
    assert [r.status for r in await rows(session, ChannelPayment)] == ["paid"] * 3
    booked = await rows(session, OutboxEvent, OutboxEvent.type == "channel_payment.paid")
    assert len(booked) == 3


async def test_an_expired_qr_is_closed_at_the_channel_and_here(app, client, session, fake, job_settings):
    d, _ = await configured(client, session, fake)
    created = (await ask_qr(client, d)).json()
    await session.execute(update(ChannelPayment).where(ChannelPayment.out_trade_no == created["out_trade_no"])
                          .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    await session.commit()
    assert await poll(app, d) == {"asked": 1, "closed": 1}
    [close] = [s for s in fake.seen if s.path.endswith("/close")]
    assert close.verified and close.json == {"mchid": fake.mchid}
    assert fake.orders[created["out_trade_no"]]["trade_state"] == "CLOSED"
    [row] = await rows(session, ChannelPayment)
    assert row.status == "closed" and "expired" in row.reason and row.reason.endswith("CLOSED: closed at WeChat Pay")
    assert [e.type for e in await rows(session, OutboxEvent, OutboxEvent.type.like("channel_payment.%"))] == \
        ["channel_payment.closed"]
    assert await count_rows(session, Payment) == 0
    # Paid after all (the owner scanned the old code): the channel's word is refused, never booked.
    fake.pay(created["out_trade_no"])
    assert (await fake.notify(client, created["out_trade_no"])).status_code == 200
    assert await count_rows(session, Payment) == 0


async def test_a_payment_code_the_channel_never_answered_is_settled_by_the_poll(app, client, session, fake, job_settings):
    fake.codes[CODE] = CodeScript(answer="USERPAYING", queries_paying=None)
    fake.down_after_codepay = True
    d, _ = await configured(client, session, fake)
    r = await scan(client, d)
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text  # neither a query nor the reverse answered
    fake.down = False
    fake.pay(r.json()["out_trade_no"])  # the owner had confirmed after all
    assert await poll(app, d) == {"asked": 1, "paid": 1}
    [payment] = await rows(session, Payment)
    [drawer] = await rows(session, CashierSession)
    assert payment.cashier_session_id == drawer.id and drawer.cashier_id == d.staff.user.id
    [receipt] = await rows(session, Receipt)
    assert receipt.series == "receipt" and receipt.cashier_session_id == drawer.id


async def test_a_payment_code_left_undecided_past_its_window_is_reversed(app, client, session, fake, job_settings):
    fake.codes[CODE] = CodeScript(answer="USERPAYING", queries_paying=None)
    fake.down_after_codepay = True
    d, _ = await configured(client, session, fake)
    r = await scan(client, d)
    assert r.json()["status"] == "pending"
    fake.down = False
    assert await poll(app, d) == {"asked": 1, "closed": 1}
    assert fake.orders[r.json()["out_trade_no"]]["trade_state"] == "REVOKED"
    [row] = await rows(session, ChannelPayment)
    assert row.status == "closed" and row.reason.startswith("USERPAYING") and row.reason.endswith("REVOKED: reversed at WeChat Pay")
