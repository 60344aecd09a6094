"""Owner notifications: written with the event, in the estate's words, sent through the gateway."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import event, select

from app.domain.auth.roles import Role
from app.domain.notifications.gateway import LogGateway, WebhookGateway
from app.domain.notifications.model import NotificationTemplate, OwnerNotification
from app.domain.notifications.sender import send_due
from app.domain.registry.model import Title
from tests.events.receiver import Receiver
from tests.factories import make_staff
from tests.helpers.payments import API, desk, pay
from tests.registry_factories import count_rows, make_owner


async def notes(session) -> list[OwnerNotification]:
    stmt = select(OwnerNotification).order_by(OwnerNotification.created_at).execution_options(populate_existing=True)
    return list((await session.execute(stmt)).scalars())


class TestWritten:
    async def test_a_payment_tells_the_owner_by_surname_and_title(self, client, session):
        d = await desk(session)
        await make_owner(session, estate=d.estate, full_name="王建國", title=Title.mr, phones=["138 0013 8000"], units=[d.unit])
        await make_owner(session, estate=d.estate, full_name="李娟", phones=["0371-6612345"], units=[d.unit])  # landline
        paid = (await pay(client, d, amount="160.56")).json()
        [n] = await notes(session)
        assert n.phone == "13800138000" and n.status == "pending" and n.event_type == "payment.received"
        assert n.text.startswith("王先生您好") and "160.56元" in n.text and paid["receipt"]["number"] in n.text
        assert "8号楼2单元301" in n.text and "單" not in n.text

    async def test_a_unit_without_a_mobile_owner_sends_nothing(self, client, session):
        d = await desk(session)
        assert (await pay(client, d, amount="10.00")).status_code == 201
        assert await notes(session) == []

    async def test_the_estates_own_wording(self, client, session):
        d = await desk(session)
        await make_owner(session, estate=d.estate, full_name="陈美玲", title=Title.ms, phones=["13900139000"], units=[d.unit])
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        r = await client.put(f"{API}/estates/{d.estate.id}/notification-templates/payment.received", headers=supervisor.headers,
                             json={"text": "{owner}：已收款{amount}元，收据{receipt_number}。"})
        assert r.status_code == 200 and r.json()["is_default"] is False
        await pay(client, d, amount="45.00")
        [n] = await notes(session)
        assert n.text.startswith("陈女士：已收款45.00元，收据")
        listed = (await client.get(f"{API}/estates/{d.estate.id}/notification-templates", headers=d.staff.headers)).json()
        assert {t["event_type"]: t["is_default"] for t in listed} == {
            "order.dispatched": True, "order.time_confirmed": True, "order.completed": True, "payment.received": False,
            "owner_code.issued": True, "account.deducted": True}
        back = await client.put(f"{API}/estates/{d.estate.id}/notification-templates/payment.received",
                                headers=supervisor.headers, json={"text": None})
        assert back.json()["is_default"] is True and await count_rows(session, NotificationTemplate) == 0


class TestUnderTheReceiptCounter:
    async def test_a_payment_only_writes_once_it_holds_the_estates_counter(self, app, client, session):
        """The counter row stays locked until the commit and queues every payment of the estate,
        so what the payment reads (webhook subscribers, the owners to tell, the estate's wording,
        the address) is read before it; after it, only writes."""
        d = await desk(session)
        await make_owner(session, estate=d.estate, full_name="王建國", title=Title.mr, phones=["13800138000"], units=[d.unit])
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(" ".join(statement.split()))

        engine = app.state.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert (await pay(client, d, amount="160.56")).status_code == 201
        finally:
            event.remove(engine, "before_cursor_execute", record)
        counter = next(i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO document_counter"))
        after = [sql.split(" ")[0] for sql in statements[counter + 1:]]
        assert after and set(after) <= {"INSERT", "UPDATE", "COMMIT"}, statements[counter + 1:]
        assert len(await notes(session)) == 1  # the owner is still told


class TestTemplateInput:
    @pytest.mark.parametrize("body,code", [
        ({"text": "{owner}您好{nope}"}, "unknown-placeholder"), ({"text": "{owner"}, "malformed-template"),
        ({"text": "{owner!r}"}, "malformed-template"), ({"text": ""}, None), ({"text": "x" * 501}, None),
        ({"text": "ok", "extra": 1}, None),
    ])
    async def test_bad_templates_422_nothing_saved(self, client, session, body, code):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        r = await client.put(f"{API}/estates/{d.estate.id}/notification-templates/payment.received",
                             headers=supervisor.headers, json=body)
        assert r.status_code == 422, r.text
        if code:
            assert r.json()["type"].endswith(code)
        assert await count_rows(session, NotificationTemplate) == 0

    async def test_an_event_without_a_notification_422(self, client, session):
        d = await desk(session)
        supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        r = await client.put(f"{API}/estates/{d.estate.id}/notification-templates/receipt.voided",
                             headers=supervisor.headers, json={"text": "x"})
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/unknown-placeholder"

    async def test_permissions(self, client, session):
        d = await desk(session)
        url = f"{API}/estates/{d.estate.id}/notification-templates/payment.received"
        assert (await client.put(url, json={"text": "x"})).status_code == 401
        assert (await client.put(url, headers=d.staff.headers, json={"text": "x"})).status_code == 403
        stranger = await make_staff(session, estates=[d.other], roles=[Role.supervisor])
        assert (await client.put(url, headers=stranger.headers, json={"text": "x"})).status_code == 404
        assert (await client.get(f"{API}/estates/{d.estate.id}/owner-notifications", headers=stranger.headers)).status_code == 404
        tech = await make_staff(session, estates=[d.estate], roles=[Role.technician])
        assert (await client.get(f"{API}/estates/{d.estate.id}/owner-notifications", headers=tech.headers)).status_code == 403


class TestSent:
    async def test_the_log_gateway_marks_them_sent(self, client, app, session):
        d = await desk(session)
        await make_owner(session, estate=d.estate, full_name="王建國", title=Title.mr, phones=["13800138000"], units=[d.unit])
        await pay(client, d, amount="10.00")
        async with httpx.AsyncClient() as http:
            assert await send_due(app.state.sessionmaker, gateway=LogGateway(), client=http) == 1
        [n] = await notes(session)
        assert n.status == "sent" and n.gateway == "log" and n.sent_at is not None
        r = await client.get(f"{API}/estates/{d.estate.id}/owner-notifications", headers=d.staff.headers,
                             params={"status": "sent"})
        assert [x["id"] for x in r.json()["items"]] == [str(n.id)]

    async def test_the_provider_webhook_is_signed_and_retried(self, client, app, session):
        d = await desk(session)
        await make_owner(session, estate=d.estate, full_name="王建國", title=Title.mr, phones=["13800138000"], units=[d.unit])
        await pay(client, d, amount="10.00")
        with Receiver(secret="whsec_sms", fail_first=1) as provider:
            gateway = WebhookGateway(url=provider.url, secret="whsec_sms")
            async with httpx.AsyncClient() as http:
                await send_due(app.state.sessionmaker, gateway=gateway, client=http)
                [n] = await notes(session)
                assert n.status == "pending" and n.attempts == 1
                await send_due(app.state.sessionmaker, gateway=gateway, client=http, now=n.next_attempt_at)
        [n] = await notes(session)
        assert n.status == "sent" and n.attempts == 2 and all(p["valid"] for p in provider.posts)
