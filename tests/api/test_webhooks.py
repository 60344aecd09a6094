"""Webhook subscriptions over HTTP: who may, what they see, the log and redelivery."""
from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.events import dispatcher, outbox
from app.domain.events.model import EventType, WebhookDelivery, WebhookEndpoint
from tests.events.receiver import Receiver
from tests.factories import make_staff
from tests.registry_factories import count_rows, two_estates

API = "/api/v1"


async def admin_of(session, estate):
    return await make_staff(session, estates=[estate], roles=[Role.admin])


async def create(client, estate, admin, **body):
    r = await client.post(f"{API}/estates/{estate.id}/webhooks", headers=admin.headers,
                          json={"url": "https://erp.example.com/hooks/propdesk", **body})
    assert r.status_code == 201, r.text
    return r.json()


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        estate, _ = await two_estates(session)
        for method, url in [("GET", f"/estates/{estate.id}/webhooks"), ("POST", f"/estates/{estate.id}/webhooks"),
                            ("GET", f"/webhooks/{uuid.uuid4()}"), ("POST", f"/webhook-deliveries/{uuid.uuid4()}/redeliver")]:
            assert (await client.request(method, API + url, json={})).status_code == 401, url

    async def test_only_the_admin(self, client, session):
        estate, _ = await two_estates(session)
        for role in (Role.supervisor, Role.receptionist, Role.finance, Role.cs_director):
            staff = await make_staff(session, estates=[estate], roles=[role])
            r = await client.post(f"{API}/estates/{estate.id}/webhooks", headers=staff.headers, json={"url": "https://x.example"})
            assert r.status_code == 403, role
            assert (await client.get(f"{API}/estates/{estate.id}/webhooks", headers=staff.headers)).status_code == 403
        assert await count_rows(session, WebhookEndpoint) == 0

    async def test_other_estate_404(self, client, session):
        estate, other = await two_estates(session)
        hook = await create(client, estate, await admin_of(session, estate))
        stranger = await admin_of(session, other)
        assert (await client.get(f"{API}/estates/{estate.id}/webhooks", headers=stranger.headers)).status_code == 404
        for method, url in [("GET", f"/webhooks/{hook['id']}"), ("PATCH", f"/webhooks/{hook['id']}"),
                            ("POST", f"/webhooks/{hook['id']}/rotate-secret"), ("GET", f"/webhooks/{hook['id']}/deliveries")]:
            r = await client.request(method, API + url, headers=stranger.headers, json={} if method == "PATCH" else None)
            assert r.status_code == 404, url


class TestSubscribe:
    async def test_the_secret_is_shown_on_creation_only(self, client, session):
        estate, _ = await two_estates(session)
        admin = await admin_of(session, estate)
        hook = await create(client, estate, admin, event_types=["payment.received", "order.completed"], description="ERP")
        assert hook["secret"].startswith("whsec_") and hook["active"] is True
        assert hook["event_types"] == ["order.completed", "payment.received"]
        got = (await client.get(f"{API}/webhooks/{hook['id']}", headers=admin.headers)).json()
        assert "secret" not in got
        listed = (await client.get(f"{API}/estates/{estate.id}/webhooks", headers=admin.headers)).json()
        assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
        rotated = (await client.post(f"{API}/webhooks/{hook['id']}/rotate-secret", headers=admin.headers)).json()
        assert rotated["secret"] != hook["secret"]

    @pytest.mark.parametrize("body", [
        {"url": "ftp://example.com/x"}, {"url": "not a url"}, {"url": "https://user:pw@example.com/x"},
        {"url": "https://example.com/" + "a" * 500}, {"url": "https://example.com", "event_types": ["nope"]},
        {"url": "https://example.com", "extra": 1}, {"url": "https://example.com", "description": "a\x00b"}, {},
    ])
    async def test_bad_input_422_and_nothing_written(self, client, session, body):
        estate, _ = await two_estates(session)
        r = await client.post(f"{API}/estates/{estate.id}/webhooks", headers=(await admin_of(session, estate)).headers, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/validation-failed"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert await count_rows(session, WebhookEndpoint) == 0

    async def test_switch_off_and_back_on(self, client, session):
        estate, _ = await two_estates(session)
        admin = await admin_of(session, estate)
        hook = await create(client, estate, admin)
        off = await client.patch(f"{API}/webhooks/{hook['id']}", headers=admin.headers, json={"active": False})
        assert off.status_code == 200 and off.json()["active"] is False
        await outbox.emit(session, estate_id=estate.id, type=EventType.payment_received, entity="payment", entity_id="p")
        await session.commit()
        assert await count_rows(session, WebhookDelivery) == 0  # a switched-off endpoint is not subscribed
        on = await client.patch(f"{API}/webhooks/{hook['id']}", headers=admin.headers, json={"active": True})
        assert on.json()["active"] is True and on.json()["failure_streak"] == 0


class TestLogAndRedeliver:
    async def test_the_log_shows_attempts_and_a_delivery_can_be_sent_again(self, client, app, session):
        estate, _ = await two_estates(session)
        admin = await admin_of(session, estate)
        with Receiver(fail_first=1) as receiver:
            hook = await create(client, estate, admin, url=receiver.url)
            receiver.secret = hook["secret"]
            await outbox.emit(session, estate_id=estate.id, type=EventType.receipt_voided, entity="receipt", entity_id="r1")
            await session.commit()
            async with httpx.AsyncClient() as http:
                await dispatcher.deliver_due(app.state.sessionmaker, client=http)
                log = (await client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=admin.headers)).json()
                [d] = log["items"]
                assert d["status"] == "pending" and d["event_type"] == "receipt.voided"
                assert [a["status_code"] for a in d["log"]] == [500]
                r = await client.post(f"{API}/webhook-deliveries/{d['id']}/redeliver", headers=admin.headers)
                assert r.status_code == 200 and r.json()["status"] == "pending"
                await dispatcher.deliver_due(app.state.sessionmaker, client=http)
        log = (await client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=admin.headers,
                                params={"status": "delivered"})).json()
        assert [a["status_code"] for a in log["items"][0]["log"]] == [500, 200]
        assert len(receiver.events) == 1

    async def test_redelivery_to_a_switched_off_endpoint_is_refused(self, client, session):
        estate, other = await two_estates(session)
        admin = await admin_of(session, estate)
        hook = await create(client, estate, admin)
        await outbox.emit(session, estate_id=estate.id, type=EventType.receipt_voided, entity="receipt", entity_id="r1")
        await session.commit()
        delivery_id = (await session.execute(select(WebhookDelivery.id))).scalar_one()
        await client.patch(f"{API}/webhooks/{hook['id']}", headers=admin.headers, json={"active": False})
        r = await client.post(f"{API}/webhook-deliveries/{delivery_id}/redeliver", headers=admin.headers)
        assert r.status_code == 409 and r.json()["type"].endswith("webhook-disabled")
        stranger = await admin_of(session, other)
        r = await client.post(f"{API}/webhook-deliveries/{delivery_id}/redeliver", headers=stranger.headers)
        assert r.status_code == 404


class TestDestinations:
    """A webhook URL must not make the server call itself or the office network (SSRF)."""

    @pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://localhost:8000/api/v1/units",
                                     "http://169.254.169.254/latest/meta-data/", "http://[::1]/x", "http://10.0.0.8/hook"])
    async def test_an_address_of_this_machine_or_a_private_network_is_422(self, client, app, session, settings, url):
        app.state.settings = settings.model_copy(update={"webhook_allowed_networks": ""})
        estate, _ = await two_estates(session)
        admin = await admin_of(session, estate)
        r = await client.post(f"{API}/estates/{estate.id}/webhooks", headers=admin.headers, json={"url": url})
        assert r.status_code == 422, r.text
        assert (r.json()["type"], r.json()["field"]) == ("/problems/webhook-url-refused", "url")
        assert await count_rows(session, WebhookEndpoint) == 0
        hook = await create(client, estate, admin)
        r = await client.patch(f"{API}/webhooks/{hook['id']}", headers=admin.headers, json={"url": url})
        assert r.status_code == 422 and r.json()["type"] == "/problems/webhook-url-refused"

    async def test_a_name_resolving_here_is_refused_when_sending_and_nothing_arrives(self, client, app, session):
        estate, _ = await two_estates(session)
        admin = await admin_of(session, estate)
        with Receiver() as receiver:
            # "localhost" passes no literal check on the way in when allowed, but the sender resolves it.
            hook = await create(client, estate, admin, url=receiver.url.replace("127.0.0.1", "localhost"))
            await outbox.emit(session, estate_id=estate.id, type=EventType.receipt_voided, entity="receipt", entity_id="r1")
            await session.commit()
            async with dispatcher.egress.guarded_client([]) as guarded:
                await dispatcher.deliver_due(app.state.sessionmaker, client=guarded)
        assert receiver.posts == []
        [d] = (await client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=admin.headers)).json()["items"]
        assert d["status"] == "pending" and "may not reach" in d["log"][0]["error"]
