"""Refunds of WeChat Pay payments, through the channel, over HTTP against the fake WeChat Pay server.

The refund asked is `pending` with the receipt valid; the channel's verified SUCCESS (its answer,
a notification or a query) voids the receipt by the desk's rule, once; a refusal or a close
leaves the receipt valid; ABNORMAL leaves it valid and alerts finance.
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.events.model import OutboxEvent
from app.domain.fees.channels.model import ChannelAlert, ChannelPayment
from app.domain.fees.channels.refund_model import ChannelRefund
from app.domain.fees.payments.model import Payment, Receipt
from tests.factories import Staff, make_staff
from tests.fakes.wechatpay import FakeWechatPay, new_key
from tests.helpers.payments import Desk, charge_state, desk, keyed, pay
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
    return settings.model_copy(update={"wechatpay_gateway": fake.url, "channel_notify_base_url": PUBLIC})


async def rows(session, model, *where) -> list[Any]:
    return list((await session.execute(select(model).where(*where).execution_options(populate_existing=True))).scalars())


@dataclass
class Paid:
    d: Desk
    supervisor: Staff
    payment: dict[str, Any]  # the channel payment as GET /channel-payments/{id} reads it

    @property
    def url(self) -> str:
        return f"{API}/channel-payments/{self.payment['id']}/refunds"


async def paid(client, session, fake: FakeWechatPay, charges=None) -> Paid:
    """A unit whose two charges were paid by a WeChat QR: receipt QS-W-…-000001 issued."""
    d = await desk(session)
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    r = await client.put(f"{API}/estates/{d.estate.id}/payment-channels/wechat", json=fake.credentials(), headers=finance.headers)
    assert r.status_code == 200, r.text
    body = {"channel": "wechat", "kind": "native", "charge_ids": [str(c.id) for c in (charges or d.charges[:2])]}
    made = await client.post(f"{API}/units/{d.unit.id}/channel-payments", json=body, headers=keyed(d.staff.headers))
    assert made.status_code == 201, made.text
    fake.pay(made.json()["out_trade_no"])
    assert (await fake.notify(client, made.json()["out_trade_no"])).status_code == 200
    supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
    payment = (await client.get(f"{API}/channel-payments/{made.json()['id']}", headers=d.staff.headers)).json()
    assert payment["status"] == "paid"
    return Paid(d=d, supervisor=supervisor, payment=payment)


async def ask(client, p: Paid, *, staff: Staff | None = None, key: str | None = None, **body: Any):
    body.setdefault("reason", "业主重复缴费，退回")
    headers = {**(staff or p.supervisor).headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(p.url, json=body, headers=headers)


async def receipt_of(session, p: Paid) -> Receipt:
    [receipt] = await rows(session, Receipt, Receipt.payment_id == uuid.UUID(p.payment["payment_id"]))
    return receipt


async def assert_reversed_once(session, p: Paid) -> None:
    receipt = await receipt_of(session, p)
    assert receipt.status == "void" and receipt.seq == 1 and receipt.void_reason.startswith("微信支付退款 RF")
    assert [await charge_state(session, c) for c in p.d.charges[:2]] == [("0.00", False), ("0.00", False)]
    assert await count_rows(session, Receipt) == 1  # no document added: the series keeps its numbers
    assert len(await rows(session, OutboxEvent, OutboxEvent.type == "receipt.voided")) == 1
    assert len(await rows(session, OutboxEvent, OutboxEvent.type == "channel_refund.succeeded")) == 1
    assert await count_rows(session, AuditEntry, AuditEntry.action == "receipt.void") == 1


async def assert_receipt_valid(session, p: Paid) -> None:
    assert (await receipt_of(session, p)).status == "issued"
    assert [await charge_state(session, c) for c in p.d.charges[:2]] == [("160.56", True), ("45.00", True)]


class TestPermissions:
    async def test_anonymous_401_and_only_the_supervisor_refunds(self, client, session, fake):
        p = await paid(client, session, fake)
        assert (await client.post(p.url, json={"reason": "x"}, headers={"Idempotency-Key": "k"})).status_code == 401
        for role in (Role.receptionist, Role.finance, Role.admin):
            staff = await make_staff(session, estates=[p.d.estate], roles=[role])
            assert (await ask(client, p, staff=staff)).status_code == 403, role
        assert await count_rows(session, ChannelRefund) == 0 and fake.refunds == {}

    async def test_another_estate_gets_404(self, client, session, fake):
        p = await paid(client, session, fake)
        stranger = await make_staff(session, estates=[p.d.other], roles=[Role.supervisor])
        assert_problem(await ask(client, p, staff=stranger), 404, "channel-payment-not-found")
        refund = (await ask(client, p)).json()
        outsider = await make_staff(session, estates=[p.d.other], roles=[Role.receptionist])
        for r in (await client.get(f"{API}/channel-refunds/{refund['id']}", headers=outsider.headers),
                  await client.post(f"{API}/channel-refunds/{refund['id']}/query", headers=outsider.headers)):
            assert_problem(r, 404, "channel-refund-not-found")
        assert len(fake.refunds) == 1

    @pytest.mark.parametrize(("body", "field"), [({"reason": ""}, "reason"), ({"reason": None}, "reason"),
                                                 ({"amount": "100.00"}, "amount"), ({"reason": "x" * 501}, "reason")])
    async def test_bad_input_is_422_naming_the_field_and_writes_nothing(self, client, session, fake, body, field):
        p = await paid(client, session, fake)
        r = await client.post(p.url, json={"reason": "退回", **body}, headers=keyed(p.supervisor.headers))
        assert_422(r, field)
        assert await count_rows(session, ChannelRefund) == 0 and fake.refunds == {}

    async def test_without_an_idempotency_key_422(self, client, session, fake):
        p = await paid(client, session, fake)
        assert_422(await client.post(p.url, json={"reason": "退回"}, headers=p.supervisor.headers), "Idempotency-Key")
        assert await count_rows(session, ChannelRefund) == 0


class TestRefund:
    async def test_asked_it_is_pending_and_the_receipt_valid_until_the_channel_says_success(self, client, session, fake):
        p = await paid(client, session, fake)
        r = await ask(client, p)
        assert r.status_code == 201, r.text
        refund = r.json()
        assert r.headers["location"] == f"{API}/channel-refunds/{refund['id']}"
        assert (refund["status"], refund["amount"], refund["channel_status"]) == ("pending", "205.56", "PROCESSING")
        assert refund["out_refund_no"] == "RF" + p.payment["out_trade_no"][2:] + "01"
        [sent] = [s for s in fake.seen if s.path == "/v3/refund/domestic/refunds"]
        assert sent.verified and sent.json["transaction_id"] == p.payment["transaction_id"]
        assert sent.json["amount"] == {"refund": 20556, "total": 20556, "currency": "CNY"}
        assert sent.json["notify_url"] == f"{PUBLIC}/api/v1/payment-channels/wechat/refund-notify/{p.d.estate.id}"
        await assert_receipt_valid(session, p)
        fake.settle_refund(refund["out_refund_no"])
        answer = await fake.notify_refund(client, refund["out_refund_no"])
        assert (answer.status_code, answer.json()) == (200, {"code": "SUCCESS"})
        await assert_reversed_once(session, p)
        got = (await client.get(r.headers["location"], headers=p.d.staff.headers)).json()
        assert (got["status"], got["receipt_reversed"], got["user_received_account"]) == ("succeeded", True, "支付用户零钱")
        assert got["refund_id"] == fake.refunds[refund["out_refund_no"]]["refund_id"]
        # The channel payment stays paid: it was paid, and a late duplicate of its notification books nothing.
        assert (await fake.notify(client, p.payment["out_trade_no"])).json() == {"code": "SUCCESS"}
        assert await count_rows(session, Payment) == 1

    async def test_success_at_once_reverses_in_the_request(self, client, session, fake):
        fake.refund_outcome = "SUCCESS"
        p = await paid(client, session, fake)
        r = await ask(client, p)
        assert (r.status_code, r.json()["status"], r.json()["receipt_reversed"]) == (201, "succeeded", True)
        await assert_reversed_once(session, p)
        assert_problem(await ask(client, p), 409, "channel-refund-exists")

    async def test_refused_for_balance_it_fails_with_the_channels_reason_and_may_be_asked_again(self, client, session, fake):
        p = await paid(client, session, fake)
        fake.refusal = (403, "NOT_ENOUGH", "基本账户余额不足，请充值后重新发起")
        r = await ask(client, p)
        assert r.status_code == 201, r.text
        assert (r.json()["status"], r.json()["channel_status"], r.json()["channel_reason"]) == (
            "failed", "NOT_ENOUGH", "基本账户余额不足，请充值后重新发起")
        await assert_receipt_valid(session, p)
        assert len(await rows(session, OutboxEvent, OutboxEvent.type == "channel_refund.failed")) == 1
        fake.refusal, fake.refund_outcome = None, "SUCCESS"
        again = await ask(client, p)
        assert (again.json()["status"], again.json()["out_refund_no"][-2:]) == ("succeeded", "02")
        await assert_reversed_once(session, p)

    async def test_a_payment_not_paid_is_not_refunded(self, client, session, fake):
        p = await paid(client, session, fake)
        made = await client.post(f"{API}/units/{p.d.unit.id}/channel-payments", headers=keyed(p.d.staff.headers),
                                 json={"channel": "wechat", "kind": "native", "charge_ids": [str(p.d.charges[2].id)]})
        r = await client.post(f"{API}/channel-payments/{made.json()['id']}/refunds", json={"reason": "x"},
                              headers=keyed(p.supervisor.headers))
        assert_problem(r, 409, "channel-payment-not-paid")
        assert await count_rows(session, ChannelRefund) == 0

    async def test_a_retry_with_the_same_key_asks_once(self, client, session, fake):
        p = await paid(client, session, fake)
        first, again = await ask(client, p, key="rf-1"), await ask(client, p, key="rf-1")
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert len([s for s in fake.seen if s.path == "/v3/refund/domestic/refunds"]) == 1

    async def test_the_desk_cannot_void_while_the_money_is_on_its_way(self, client, session, fake):
        p = await paid(client, session, fake)
        refund = (await ask(client, p)).json()
        receipt = await receipt_of(session, p)
        void = await client.post(f"{API}/receipts/{receipt.id}/void", json={"reason": "作废"}, headers=keyed(p.supervisor.headers))
        assert_problem(void, 409, "receipt-has-channel-refund")
        await assert_receipt_valid(session, p)
        fake.settle_refund(refund["out_refund_no"])
        assert (await client.post(f"{API}/channel-refunds/{refund['id']}/query", headers=p.d.staff.headers)).json()["status"] == "succeeded"
        await assert_reversed_once(session, p)


class TestNotification:
    async def test_five_identical_notifications_at_once_reverse_once(self, client, session, fake):
        p = await paid(client, session, fake)
        refund = (await ask(client, p)).json()
        prepared = fake.refund_notification(fake.settle_refund(refund["out_refund_no"]))
        answers = await asyncio.gather(*[fake.notify_refund(client, refund["out_refund_no"], prepared=prepared) for _ in range(5)])
        assert [(a.status_code, a.json()) for a in answers] == [(200, {"code": "SUCCESS"})] * 5
        await assert_reversed_once(session, p)

    async def test_abnormal_keeps_the_receipt_and_alerts_finance_once_then_success_reverses(self, client, session, fake):
        p = await paid(client, session, fake)
        refund = (await ask(client, p)).json()
        prepared = fake.refund_notification(fake.settle_refund(refund["out_refund_no"], "ABNORMAL"))
        for _ in range(2):
            assert (await fake.notify_refund(client, refund["out_refund_no"], prepared=prepared)).json() == {"code": "SUCCESS"}
        [row] = await rows(session, ChannelRefund)
        assert row.status == "abnormal" and "招商银行信用卡0403" in row.channel_reason
        await assert_receipt_valid(session, p)
        assert [a.reason for a in await rows(session, ChannelAlert)] == ["refund_abnormal"]
        assert len(await rows(session, OutboxEvent, OutboxEvent.type == "channel_refund.abnormal")) == 1
        assert_problem(await ask(client, p), 409, "channel-refund-exists")
        fake.settle_refund(refund["out_refund_no"])  # re-sent by hand on the merchant platform
        assert (await fake.notify_refund(client, refund["out_refund_no"])).status_code == 200
        await assert_reversed_once(session, p)

    async def test_closed_keeps_the_receipt_and_frees_the_payment(self, client, session, fake):
        p = await paid(client, session, fake)
        refund = (await ask(client, p)).json()
        fake.settle_refund(refund["out_refund_no"], "CLOSED")
        assert (await fake.notify_refund(client, refund["out_refund_no"])).status_code == 200
        assert [r.status for r in await rows(session, ChannelRefund)] == ["closed"]
        await assert_receipt_valid(session, p)
        assert (await ask(client, p)).status_code == 201

    async def test_a_forged_or_misrouted_notification_changes_nothing(self, client, session, fake):
        p = await paid(client, session, fake)
        refund = (await ask(client, p)).json()
        fake.settle_refund(refund["out_refund_no"])
        forged = await fake.notify_refund(client, refund["out_refund_no"], signer=new_key())
        assert forged.status_code == 401 and forged.json()["code"] == "FAIL"
        payment_note = fake.notification(fake.transaction(p.payment["out_trade_no"]))
        misrouted = await fake.notify_refund(client, refund["out_refund_no"], prepared=payment_note)
        assert misrouted.status_code == 400 and misrouted.json()["code"] == "FAIL"
        assert [r.status for r in await rows(session, ChannelRefund)] == ["pending"]
        await assert_receipt_valid(session, p)

    async def test_not_what_was_asked_is_an_alert_and_reverses_nothing(self, client, session, fake):
        p = await paid(client, session, fake)
        refund = (await ask(client, p)).json()
        said = fake.settle_refund(refund["out_refund_no"])
        wrong = {**said, "amount": {**said["amount"], "refund": 100}}
        assert (await fake.notify_refund(client, refund["out_refund_no"], resource=wrong)).json() == {"code": "SUCCESS"}
        unknown = {**said, "out_refund_no": "RF-NOT-OURS"}
        assert (await fake.notify_refund(client, refund["out_refund_no"], resource=unknown)).json() == {"code": "SUCCESS"}
        assert sorted(a.reason for a in await rows(session, ChannelAlert)) == ["refund_mismatch", "refund_unknown"]
        assert [r.status for r in await rows(session, ChannelRefund)] == ["pending"]
        await assert_receipt_valid(session, p)


class TestQueryAndSilence:
    async def test_no_answer_stays_pending_and_a_query_resolves_it(self, client, session, fake):
        p = await paid(client, session, fake)
        fake.refusal = (500, "SYSTEM_ERROR", "系统超时")
        refund = (await ask(client, p)).json()
        assert (refund["status"], refund["channel_status"]) == ("pending", "SYSTEM_ERROR")
        await assert_receipt_valid(session, p)
        # The channel never took it: the query finds no such refund, so nothing was paid out.
        r = await client.post(f"{API}/channel-refunds/{refund['id']}/query", headers=p.d.staff.headers)
        assert (r.status_code, r.json()["status"], r.json()["channel_status"]) == (200, "failed", "RESOURCE_NOT_EXISTS")
        await assert_receipt_valid(session, p)

    async def test_a_query_of_a_finished_refund_asks_nothing(self, client, session, fake):
        fake.refund_outcome = "SUCCESS"
        p = await paid(client, session, fake)
        refund = (await ask(client, p)).json()
        asked = len(fake.seen)
        r = await client.post(f"{API}/channel-refunds/{refund['id']}/query", headers=p.d.staff.headers)
        assert r.json()["status"] == "succeeded" and len(fake.seen) == asked
        await assert_reversed_once(session, p)


class TestConcurrency:
    async def test_two_refunds_at_once_make_one(self, client, session, fake):
        fake.refund_delay = 0.3
        p = await paid(client, session, fake)
        other = await make_staff(session, estates=[p.d.estate], roles=[Role.supervisor])
        results = await asyncio.gather(ask(client, p), ask(client, p, staff=other))
        assert sorted(r.status_code for r in results) == [201, 409]
        assert_problem(max(results, key=lambda r: r.status_code), 409, "channel-refund-exists")
        assert len(fake.refunds) == 1 and await count_rows(session, ChannelRefund) == 1

    async def test_a_refund_racing_a_duplicate_payment_notification(self, client, session, fake):
        fake.refund_outcome, fake.refund_delay = "SUCCESS", 0.2
        p = await paid(client, session, fake)
        refund, *notes = await asyncio.gather(ask(client, p), *[fake.notify(client, p.payment["out_trade_no"]) for _ in range(3)])
        assert refund.status_code == 201 and refund.json()["status"] == "succeeded"
        assert [n.json() for n in notes] == [{"code": "SUCCESS"}] * 3
        assert await count_rows(session, Payment) == 1
        assert [c.status for c in await rows(session, ChannelPayment)] == ["paid"]
        await assert_reversed_once(session, p)


class TestCreditSpent:
    """A payment whose charges were paid at the desk meanwhile put its money on account (settled_meanwhile)."""

    async def on_account(self, client, session, fake) -> tuple[Paid, Staff]:
        d = await desk(session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        assert (await client.put(f"{API}/estates/{d.estate.id}/payment-channels/wechat", json=fake.credentials(),
                                 headers=finance.headers)).status_code == 200
        made = (await client.post(f"{API}/units/{d.unit.id}/channel-payments", headers=keyed(d.staff.headers),
                                  json={"channel": "wechat", "kind": "native", "charge_ids": [str(d.charges[0].id)]})).json()
        assert (await pay(client, d, charge_ids=[str(d.charges[0].id)], amount="160.56")).status_code == 201
        fake.pay(made["out_trade_no"])
        assert (await fake.notify(client, made["out_trade_no"])).status_code == 200
        payment = (await client.get(f"{API}/channel-payments/{made['id']}", headers=d.staff.headers)).json()
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        return Paid(d=d, supervisor=supervisor, payment=payment), finance

    async def refund_credit(self, client, p: Paid, finance: Staff):
        return await client.post(f"{API}/units/{p.d.unit.id}/refunds", headers=keyed(finance.headers),
                                 json={"amount": "10.00", "method": "cash", "reason": "退预收款"})

    async def test_credit_refunded_at_the_desk_first_refuses_the_channel_refund(self, client, session, fake):
        p, finance = await self.on_account(client, session, fake)
        assert (await self.refund_credit(client, p, finance)).status_code == 201
        assert_problem(await ask(client, p), 409, "credit-already-refunded")
        assert await count_rows(session, ChannelRefund) == 0 and fake.refunds == {}

    async def test_credit_spent_while_pending_the_money_is_recorded_gone_and_finance_alerted(self, client, session, fake):
        p, finance = await self.on_account(client, session, fake)
        refund = (await ask(client, p)).json()
        assert (await self.refund_credit(client, p, finance)).status_code == 201
        fake.settle_refund(refund["out_refund_no"])
        assert (await fake.notify_refund(client, refund["out_refund_no"])).json() == {"code": "SUCCESS"}
        [row] = await rows(session, ChannelRefund)
        assert (row.status, row.receipt_reversed) == ("succeeded", None)
        assert (await receipt_of(session, p)).status == "issued"
        alerts = await rows(session, ChannelAlert, ChannelAlert.reason == "refund_not_reversed")
        assert [a.detail["problem"] for a in alerts] == ["CreditAlreadyRefunded"]
