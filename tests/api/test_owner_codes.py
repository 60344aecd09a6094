"""The owner's one-time code: issued by the desk, texted to the owner, hashed, limited, consumed.

Read as an attacker would: the technician wants to confirm his own job without the owner.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from app.domain.audit.model import AuditEntry
from app.domain.auth import secrets
from app.domain.auth.model import AuthToken
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.events.dispatcher import body_of
from app.domain.events.model import OutboxEvent, WebhookDelivery
from app.domain.notifications.gateway import LogGateway
from app.domain.notifications.model import OwnerNotification
from app.domain.notifications.sender import send_due
from app.domain.registry.model import Title
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.owner_code_model import OwnerCode
from app.domain.repairs.vouchers.model import Voucher
from tests.factories import Staff, make_staff
from tests.helpers.vouchers import API, body, issue_code, nothing_written, post, scene
from tests.images import JPEG
from tests.registry_factories import count_rows, make_owner
from tests.repairs_factories import make_order

S = WorkOrderStatus


def owner(code: str) -> dict:
    return body(owner_confirmation={"name": "王建國", "code": code})


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def code_row(session, order_id) -> OwnerCode:
    stmt = select(OwnerCode).where(OwnerCode.work_order_id == order_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


async def actions(session, entity: str = "owner_code") -> list[str]:
    stmt = select(AuditEntry.action).where(AuditEntry.entity == entity).order_by(AuditEntry.id)
    return list((await session.execute(stmt)).scalars())


class TestIssueEndpoint:
    async def test_who_may_issue_and_read_it(self, client, session):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.dispatched)
        url = f"{API}/work-orders/{order.id}/owner-code"
        assert (await client.post(url)).status_code == 401
        manager = await make_staff(session, estates=[sc.estate], roles=[Role.manager])
        for staff in (sc.tech, manager):  # the technician least of all: it would be his own sign-off
            for method in ("POST", "GET"):
                r = await client.request(method, url, headers=staff.headers)
                assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden", (method, r.text)
        outsider = await make_staff(session, estates=[sc.other])
        assert (await client.post(url, headers=outsider.headers)).json()["type"] == "/problems/work-order-not-found"
        assert (await client.post(f"{API}/work-orders/{uuid.uuid4()}/owner-code", headers=sc.desk.headers)).status_code == 404
        assert await count_rows(session, OwnerCode) == 0
        r = await client.post(f"{API}/work-orders/not-a-uuid/owner-code", headers=sc.desk.headers)
        assert r.status_code == 422 and "order_id" in r.text
        r = await client.get(url, headers=sc.desk.headers)
        assert r.status_code == 404 and r.json()["type"] == "/problems/owner-code-not-issued"
        for role in (Role.receptionist, Role.night_duty, Role.supervisor, Role.admin):
            staff = await make_staff(session, estates=[sc.estate], roles=[role])
            assert (await client.post(url, headers=staff.headers)).status_code == 201, role

    async def test_texted_to_the_owner_shown_once_stored_hashed(self, client, session):
        sc = await scene(session)
        await make_owner(session, estate=sc.estate, full_name="王建國", title=Title.mr, phones=["13800138000"], units=[sc.unit])
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.dispatched)
        r = await client.post(f"{API}/work-orders/{order.id}/owner-code", headers=sc.desk.headers)
        assert r.status_code == 201 and r.headers["cache-control"] == "no-store", r.text
        issued = r.json()
        code = issued["code"]
        assert len(code) == 6 and code.isdigit()
        assert (issued["status"], issued["attempts_left"], issued["owners_texted"]) == ("active", 5, 1)
        row = await code_row(session, order.id)
        assert row.code_hash.startswith("$argon2id$") and code not in row.code_hash
        assert timedelta(hours=71) < row.expires_at - row.issued_at <= timedelta(hours=72)
        [sms] = (await session.execute(select(OwnerNotification))).scalars().all()
        assert (sms.phone, sms.event_type) == ("13800138000", "owner_code.issued")
        assert sms.text.startswith("王先生您好") and f"完工确认码为{code}" in sms.text and code not in sms.text_shown
        shown = (await client.get(f"{API}/work-orders/{order.id}/owner-code", headers=sc.desk.headers)).json()
        assert "code" not in shown and shown["status"] == "active" and shown["failed_attempts"] == 0
        assert await actions(session) == ["owner_code.issue"]

    async def test_the_code_the_secret_used_to_give_is_refused(self, client, session, settings):
        """Before: HMAC(PROPDESK_SECRET, order id) — its default is public, so anyone could compute it."""
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        digest = hmac.new(settings.secret.encode(), order.id.bytes, hashlib.sha256).digest()
        derived = f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"
        r = await post(client, order, sc.tech, owner(derived))
        assert r.status_code == 422 and r.json()["type"] == "/problems/no-owner-code", r.text
        real = await issue_code(client, order, sc.desk)
        if real != derived:  # one chance in a million that the random one is the same
            r = await post(client, order, sc.tech, owner(derived))
            assert r.status_code == 422 and r.json()["type"] == "/problems/wrong-owner-code", r.text
        await nothing_written(session, order.id, settings, status=S.in_progress)

    async def test_reissuing_replaces_the_code_but_not_the_count(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        first = await issue_code(client, order, sc.desk)
        r = await post(client, order, sc.tech, owner(other_than(first)))
        assert r.json()["attempts_left"] == 4
        second = await issue_code(client, order, sc.desk)  # the owner lost the SMS
        assert (await code_row(session, order.id)).failed_attempts == 1  # no fresh guesses by asking the desk
        if first != second:
            r = await post(client, order, sc.tech, owner(first))
            assert r.status_code == 422 and r.json()["type"] == "/problems/wrong-owner-code", r.text
            await nothing_written(session, order.id, settings, status=S.in_progress)
        assert (await post(client, order, sc.tech, owner(second))).status_code == 201
        wrong_again = ["owner_code.wrong"] if first != second else []
        assert await actions(session) == ["owner_code.issue", "owner_code.wrong", "owner_code.issue", *wrong_again,
                                          "owner_code.consume"]

    async def test_no_code_for_a_finished_order(self, client, session):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.completed)
        r = await client.post(f"{API}/work-orders/{order.id}/owner-code", headers=sc.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/order-not-open", r.text
        assert await count_rows(session, OwnerCode) == 0 and await count_rows(session, OutboxEvent) == 0


class TestAttempts:
    async def test_fifth_wrong_code_locks_then_the_right_one_is_refused(self, client, session, settings):
        sc = await scene(session)
        supervisor = await make_staff(session, estates=[sc.estate], roles=[Role.supervisor], full_name="赵主管")
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        code = await issue_code(client, order, sc.desk)
        supervisor_id, tech_id = supervisor.id, sc.tech.id
        for left in (4, 3, 2, 1, 0):
            r = await post(client, order, sc.tech, owner(other_than(code)), {"photos": ("a.jpg", JPEG)})
            assert r.status_code == 422 and r.json()["type"] == "/problems/wrong-owner-code", r.text
            assert (r.json()["attempts_left"], r.json()["locked"]) == (left, left == 0)
        r = await post(client, order, sc.tech, owner(code))
        assert r.status_code == 409 and r.json()["type"] == "/problems/owner-code-locked", r.text
        await nothing_written(session, order.id, settings, status=S.in_progress)
        row = await code_row(session, order.id)
        assert (row.status, row.failed_attempts) == ("locked", 5) and row.locked_at is not None
        # The supervisor hears of it: an audited alert naming them, an event, the attention queue.
        alert = (await session.execute(select(AuditEntry.after).where(AuditEntry.action == "owner_code.lock"))).scalar_one()
        assert alert["alert"]["to"] == "supervisor" and alert["alert"]["staff"] == [{"id": str(supervisor_id), "name": "赵主管"}]
        assert alert["alert"]["technician_id"] == str(tech_id)
        locked = (await session.execute(select(OutboxEvent).where(OutboxEvent.type == "owner_code.locked"))).scalar_one()
        assert locked.entity_id == str(order.id) and locked.data["failed_attempts"] == 5
        queue = (await client.get(f"{API}/attention", headers=supervisor.headers)).json()
        assert [(i["kind"], i["entity_id"]) for i in queue["items"] if i["kind"] == "owner_code_locked"] == [
            ("owner_code_locked", str(order.id))]
        desk_queue = (await client.get(f"{API}/attention", headers=sc.desk.headers)).json()
        assert "owner_code_locked" not in desk_queue["counts"]

    async def test_only_a_supervisor_unlocks_with_a_new_code(self, client, session, settings):
        sc = await scene(session)
        supervisor = await make_staff(session, estates=[sc.estate], roles=[Role.supervisor])
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        settings.owner_code_max_attempts = 2
        code = await issue_code(client, order, sc.desk)
        for _ in range(2):
            await post(client, order, sc.tech, owner(other_than(code)))
        r = await client.post(f"{API}/work-orders/{order.id}/owner-code", headers=sc.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/owner-code-locked", r.text
        assert (await code_row(session, order.id)).status == "locked"
        new = await issue_code(client, order, supervisor)
        row = await code_row(session, order.id)
        assert (row.status, row.failed_attempts, row.issued_by) == ("active", 0, supervisor.id)
        assert (await post(client, order, sc.tech, owner(new))).status_code == 201
        assert await actions(session) == ["owner_code.issue", "owner_code.wrong", "owner_code.wrong", "owner_code.lock",
                                          "owner_code.unlock", "owner_code.consume"]

    async def test_twenty_concurrent_wrong_codes_count_exactly_the_limit(self, app, session, settings):
        """Two tokens of the technician, twenty posts at once: the row lock counts them one by one,
        and each count survives its refused request."""
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        token = secrets.new_token()
        session.add(AuthToken(user_id=sc.tech.id, token_hash=secrets.token_hash(token), expires_at=utcnow() + timedelta(hours=1)))
        await session.commit()
        second = Staff(user=sc.tech.user, token=token)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            code = await issue_code(client, order, sc.desk)
            wrong = other_than(code)
            answers = await asyncio.gather(*(post(client, order, (sc.tech, second)[i % 2], owner(wrong)) for i in range(20)))
        kinds = sorted((r.status_code, r.json()["type"]) for r in answers)
        assert kinds == [(409, "/problems/owner-code-locked")] * 15 + [(422, "/problems/wrong-owner-code")] * 5, kinds
        assert sorted(r.json()["attempts_left"] for r in answers if r.status_code == 422) == [0, 1, 2, 3, 4]
        row = await code_row(session, order.id)
        assert (row.status, row.failed_attempts) == ("locked", 5)
        assert (await actions(session)).count("owner_code.wrong") == 5 and (await actions(session)).count("owner_code.lock") == 1
        await nothing_written(session, order.id, settings, status=S.in_progress)

    async def test_a_used_code_does_not_confirm_the_next_round(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        code = await issue_code(client, order, sc.desk)
        assert (await post(client, order, sc.tech, owner(code))).status_code == 201
        assert (await code_row(session, order.id)).status == "consumed"
        # The callback found a problem: the order is back with the technician for a second round.
        await session.execute(update(WorkOrder).where(WorkOrder.id == order.id).values(status=S.in_progress, reopen_count=1))
        await session.commit()
        r = await post(client, order, sc.tech, owner(code))
        assert r.status_code == 422 and r.json()["type"] == "/problems/owner-code-already-used", r.text
        assert await count_rows(session, Voucher) == 1
        fresh = await issue_code(client, order, sc.desk)
        r = await post(client, order, sc.tech, owner(fresh))
        assert r.status_code == 201 and r.json()["round"] == 2, r.text

    async def test_another_orders_code_is_wrong_here(self, client, session, settings):
        sc = await scene(session)
        mine = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        theirs = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        here, there = await issue_code(client, mine, sc.desk), await issue_code(client, theirs, sc.desk)
        if here != there:
            r = await post(client, mine, sc.tech, owner(there))
            assert r.status_code == 422 and r.json()["type"] == "/problems/wrong-owner-code", r.text
        await nothing_written(session, mine.id, settings, status=S.in_progress)

    async def test_an_expired_code_is_refused_and_not_counted(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        code = await issue_code(client, order, sc.desk)
        await session.execute(update(OwnerCode).values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
        r = await post(client, order, sc.tech, owner(code))
        assert r.status_code == 422 and r.json()["type"] == "/problems/owner-code-expired", r.text
        assert (await code_row(session, order.id)).failed_attempts == 0
        shown = (await client.get(f"{API}/work-orders/{order.id}/owner-code", headers=sc.desk.headers)).json()
        assert shown["status"] == "expired"
        await nothing_written(session, order.id, settings, status=S.in_progress)


class TestTheCodeIsShownNowhereElse:
    async def test_the_technician_and_the_office_never_read_it_again(self, app, client, session):
        sc = await scene(session)
        await make_owner(session, estate=sc.estate, full_name="王建國", title=Title.mr, phones=["13800138000"], units=[sc.unit])
        admin = await make_staff(session, estates=[sc.estate], roles=[Role.admin])
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        r = await client.post(f"{API}/estates/{sc.estate.id}/webhooks", headers=admin.headers, json={"url": "https://example.com/hook"})
        assert r.status_code == 201, r.text
        code = await issue_code(client, order, sc.desk)
        r = await post(client, order, sc.tech, owner(code), {"photos": ("a.jpg", JPEG)})
        assert r.status_code == 201 and code not in r.text
        voucher_id = r.json()["id"]
        reads = [(sc.tech, f"/work-orders/{order.id}"), (sc.tech, f"/vouchers/{voucher_id}"),
                 (sc.tech, f"/work-orders/{order.id}/vouchers"), (sc.tech, f"/estates/{sc.estate.id}/vouchers"),
                 (sc.tech, "/attention"), (sc.desk, f"/work-orders/{order.id}/owner-code"),
                 (sc.desk, f"/estates/{sc.estate.id}/owner-notifications"), (admin, "/audit?limit=200")]
        for staff, path in reads:
            got = await client.get(f"{API}{path}", headers=staff.headers)
            assert got.status_code == 200 and code not in got.text, (path, got.text)
        listed = (await client.get(f"{API}/estates/{sc.estate.id}/owner-notifications", headers=sc.desk.headers)).json()
        assert [n["text"] for n in listed["items"] if n["event_type"] == "owner_code.issued"][0].count("******") == 1
        # What webhooks and the event stream carry.
        events = (await session.execute(select(OutboxEvent))).scalars().all()
        assert {e.type for e in events} >= {"owner_code.issued", "order.completed"}
        assert all(code not in body_of(e).decode() for e in events)
        assert await count_rows(session, WebhookDelivery) == len(events)
        trail = (await session.execute(select(AuditEntry.before, AuditEntry.after))).all()
        assert trail and all(code not in json.dumps(list(t), ensure_ascii=False) for t in trail)
        # Once the SMS is out, the code is not kept in the outbox either.
        async with httpx.AsyncClient() as http:
            await send_due(app.state.sessionmaker, gateway=LogGateway(), client=http)
        texts = (await session.execute(select(OwnerNotification.text).execution_options(populate_existing=True))).scalars().all()
        assert texts and all(code not in t for t in texts)

    async def test_an_estates_wording_must_carry_the_code(self, client, session):
        sc = await scene(session)
        supervisor = await make_staff(session, estates=[sc.estate], roles=[Role.supervisor])
        url = f"{API}/estates/{sc.estate.id}/notification-templates/owner_code.issued"
        r = await client.put(url, headers=supervisor.headers, json={"text": "{owner}您好，维修完工请确认。"})
        assert r.status_code == 422 and r.json()["type"] == "/problems/missing-placeholder" and r.json()["field"] == "text"
        r = await client.put(url, headers=supervisor.headers, json={"text": "{owner}：确认码{code}，{valid_until}前有效。"})
        assert r.status_code == 200, r.text
