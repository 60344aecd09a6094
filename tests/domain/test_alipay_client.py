"""The Alipay client functions the counter (条码支付) and the poll build on, against the fake gateway.

No endpoint uses barcode_pay / query / close / cancel yet (the counter flow is another slice);
these tests hold the SDK's real signing and verification to the documented answers.
"""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from app.domain.base import utcnow
from app.domain.fees.channels import alipay
from app.domain.fees.channels.credentials import AlipayCredentials
from app.domain.fees.channels.errors import ChannelRefused, ChannelUnavailable
from tests.fakes.alipay import FakeAlipay, new_key

CODE = "287654321098765432"  # an Alipay payment code: 18 digits from 28


@pytest.fixture
async def fake():
    server = FakeAlipay()
    await server.start()
    yield server
    await server.stop()


def creds(fake: FakeAlipay) -> AlipayCredentials:
    c = fake.credentials()
    return AlipayCredentials(app_id=c["app_id"], seller_id=c["seller_id"], app_private_key=c["app_private_key"],
                             alipay_public_key=c["alipay_public_key"])


async def counter(fake: FakeAlipay, auth_code: str = CODE, amount: str = "160.56") -> tuple[str, alipay.Trade]:
    no = "PD" + uuid.uuid4().hex[:24].upper()
    trade = await alipay.barcode_pay(creds(fake), gateway=fake.url, notify_url="https://desk.example.com/n", out_trade_no=no,
                                     auth_code=auth_code, subject="物业费 8-2-301", total_amount=Decimal(amount),
                                     time_expire=utcnow() + timedelta(minutes=5))
    return no, trade


def test_the_auth_code_pattern_is_alipays():
    assert all(re.match(alipay.AUTH_CODE_PATTERN, c) for c in (CODE, "2500000000000000", "300000000000000000000000"))
    assert not any(re.match(alipay.AUTH_CODE_PATTERN, c) for c in ("134567890123456789", "31" + "0" * 16, "28" + "0" * 13))


async def test_a_code_paid_at_once(fake):
    no, trade = await counter(fake)
    assert (trade.code, trade.ok, trade.paid, trade.out_trade_no) == ("10000", True, True, no)
    assert trade.total_amount == Decimal("160.56") and trade.trade_no and trade.paid_at is not None
    [sent] = [s for s in fake.seen if s.method == "alipay.trade.pay"]
    assert sent.verified and sent.biz["scene"] == "bar_code" and sent.biz["auth_code"] == CODE
    assert sent.biz["total_amount"] == "160.56"


async def test_the_owner_confirming_is_10003_then_the_query_sees_it_paid(fake):
    fake.codes[CODE] = "paying"
    no, trade = await counter(fake)
    assert (trade.code, trade.paid) == (alipay.PAYING, False)
    waiting = await alipay.query(creds(fake), gateway=fake.url, out_trade_no=no)
    assert (waiting.ok, waiting.trade_status) == (True, "WAIT_BUYER_PAY")
    fake.pay(no)
    paid = await alipay.query(creds(fake), gateway=fake.url, out_trade_no=no)
    assert (paid.paid, paid.trade_no, paid.total_amount) == (True, trade.trade_no, Decimal("160.56"))


async def test_unresolved_in_the_window_it_is_cancelled_and_closes(fake):
    fake.codes[CODE] = "paying"
    no, _ = await counter(fake)
    cancelled = await alipay.cancel(creds(fake), gateway=fake.url, out_trade_no=no)
    assert (cancelled.ok, cancelled.action) == (True, "close")
    assert (await alipay.query(creds(fake), gateway=fake.url, out_trade_no=no)).trade_status == "TRADE_CLOSED"


async def test_a_cancel_after_the_money_went_through_refunds_it(fake):
    no, _ = await counter(fake)
    assert (await alipay.cancel(creds(fake), gateway=fake.url, out_trade_no=no)).action == "refund"


@pytest.mark.parametrize(("code", "outcome", "sub_code"), [
    (CODE, "ACQ.BUYER_BALANCE_NOT_ENOUGH", "ACQ.BUYER_BALANCE_NOT_ENOUGH"),
    ("134567890123456789", None, "ACQ.PAYMENT_AUTH_CODE_INVALID")])  # a WeChat code shown to Alipay
async def test_a_failed_payment_says_why(fake, code, outcome, sub_code):
    if outcome:
        fake.codes[code] = outcome
    _, trade = await counter(fake, auth_code=code)
    assert (trade.code, trade.sub_code, trade.ok, trade.paid) == ("40004", sub_code, False, False)
    assert trade.message


async def test_a_qr_order_exists_at_alipay_only_once_scanned_and_then_closes(fake):
    no = "PD" + uuid.uuid4().hex[:24].upper()
    qr = await alipay.precreate(creds(fake), gateway=fake.url, notify_url="https://desk.example.com/n", out_trade_no=no,
                                subject="物业费", total_amount=Decimal("45.00"), time_expire=utcnow() + timedelta(hours=2))
    assert qr.startswith("https://qr.alipay.com/")
    assert (await alipay.query(creds(fake), gateway=fake.url, out_trade_no=no)).sub_code == "ACQ.TRADE_NOT_EXIST"
    assert (await alipay.close(creds(fake), gateway=fake.url, out_trade_no=no)).sub_code == "ACQ.TRADE_NOT_EXIST"
    fake.scan(no)
    closed = await alipay.close(creds(fake), gateway=fake.url, out_trade_no=no)
    assert closed.ok and (await alipay.query(creds(fake), gateway=fake.url, out_trade_no=no)).trade_status == "TRADE_CLOSED"


async def test_an_answer_not_signed_by_alipay_or_no_answer_is_unavailable(fake):
    good = creds(fake)
    fake.alipay = new_key()
    with pytest.raises(ChannelUnavailable):
        await alipay.query(good, gateway=fake.url, out_trade_no="PD1")
    with pytest.raises(ChannelUnavailable):
        await alipay.query(good, gateway="http://127.0.0.1:9/gateway.do", out_trade_no="PD1")


async def test_a_request_alipay_cannot_verify_is_refused_with_its_code(fake):
    good = creds(fake)
    fake.app = new_key()
    with pytest.raises(ChannelRefused) as refused:
        await alipay.query(good, gateway=fake.url, out_trade_no="PD1")
    assert refused.value.extra.get("channel_code") == "isv.invalid-signature"
