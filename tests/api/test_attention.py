"""What needs me now: each person's queue from the records, most urgent first; the estate's wall board."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from app.domain.attention import service
from app.domain.attention.schemas import AttentionUrgency
from app.domain.auth import service as auth_service
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback
from app.domain.registry.model import Script
from app.domain.repairs.model import WorkOrderStatus as S
from app.domain.repairs.orders.schedule_model import ReplyPromise
from tests.factories import make_staff
from tests.helpers.characters import assert_one_script
from tests.helpers.payments import API, desk, pay
from tests.registry_factories import make_building, make_unit
from tests.repairs_factories import make_order

RANK = {"overdue": 0, "due_soon": 1, "later": 2}


def in_order(items: list[dict]) -> bool:
    keys = [(RANK[i["urgency"]], i["deadline"] is None, datetime.fromisoformat(i["deadline"]).timestamp() if i["deadline"] else 0)
            for i in items]
    return keys == sorted(keys)


async def world(session):
    d = await desk(session)
    tech = await make_staff(session, estates=[d.estate], roles=[Role.technician])
    other_tech = await make_staff(session, estates=[d.estate], roles=[Role.technician])
    unit = await make_unit(session, building=await make_building(session, estate=d.estate))
    # A promise to ring the owner back, late since yesterday, so it is the oldest deadline at any
    # hour (a promise 5 minutes late ranked behind the drawer's 17:00 once CI ran after 17:00);
    # an order waiting for this technician.
    waiting = await make_order(session, estate=d.estate, unit=unit, technician=tech, status=S.awaiting_technician_confirmation)
    session.add(ReplyPromise(estate_id=d.estate.id, work_order_id=waiting.id, technician_id=tech.id,
                             due_at=utcnow() - timedelta(days=1, hours=2)))
    await make_order(session, estate=d.estate, unit=unit, technician=other_tech, status=S.awaiting_technician_confirmation)
    # Completed 7½ days ago: its callback fell due today or yesterday (the end of the 7th local day).
    await make_order(session, estate=d.estate, unit=unit, technician=tech, status=S.completed,
                     completed_at=utcnow() - timedelta(days=7, hours=12), with_callback=True)
    await session.commit()
    return d, tech, other_tech


class TestMyQueue:
    async def test_the_receptionist_sees_the_promise_the_callback_and_her_drawer(self, client, session):
        d, _, _ = await world(session)
        await pay(client, d, amount="10.00")
        r = await client.get(f"{API}/attention", headers=d.staff.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        kinds = [i["kind"] for i in body["items"]]
        assert sorted(kinds) == ["callback_due", "cash_handover", "reply_promise"]
        assert kinds[0] == "reply_promise" and body["items"][0]["urgency"] == "overdue" and body["overdue"] >= 1
        assert in_order(body["items"])
        assert {k: n for k, n in body["counts"].items() if n} == {"reply_promise": 1, "callback_due": 1, "cash_handover": 1}
        assert "complaint_handling" in body["counts"]  # her business, none open
        assert all(i["link"].startswith("/api/v1/") and i["rule"] for i in body["items"])

    async def test_a_technician_sees_only_his_own_orders_to_confirm(self, client, session):
        d, tech, other_tech = await world(session)
        mine = (await client.get(f"{API}/attention", headers=tech.headers)).json()
        assert [i["kind"] for i in mine["items"]] == ["order_to_confirm"]
        # The promise made to the owner on his order is his deadline too.
        assert mine["items"][0]["urgency"] == "overdue"
        theirs = (await client.get(f"{API}/attention", headers=other_tech.headers)).json()
        assert [i["kind"] for i in theirs["items"]] == ["order_to_confirm"] and theirs["items"][0]["deadline"] is None

    async def test_the_records_change_the_queue_at_once(self, client, session):
        d, _, _ = await world(session)
        await session.execute(update(ReplyPromise).values(owner_told_at=utcnow()))
        await session.execute(update(Callback).values(status="done", done_at=utcnow()))
        await session.commit()
        body = (await client.get(f"{API}/attention", headers=d.staff.headers)).json()
        assert body["items"] == [] and body["overdue"] == 0

    async def test_each_item_in_its_estates_characters(self, client, session):
        d, _, _ = await world(session)
        before = (await client.get(f"{API}/attention", headers=d.staff.headers)).json()["items"]
        d.estate.script = Script.traditional
        session.add(d.estate)
        await session.commit()
        after = (await client.get(f"{API}/attention", headers=d.staff.headers)).json()["items"]
        assert [i["kind"] for i in after] == [i["kind"] for i in before] and after
        for was, now in zip(before, after, strict=True):
            assert_one_script(was["title"] + was["rule"], Script.simplified)
            assert_one_script(now["title"] + now["rule"], Script.traditional)
        assert any(was["title"] != now["title"] for was, now in zip(before, after, strict=True))

    async def test_nothing_from_another_estate(self, client, session):
        d, _, _ = await world(session)
        stranger = await make_staff(session, estates=[d.other], roles=[Role.receptionist])
        assert (await client.get(f"{API}/attention", headers=stranger.headers)).json()["items"] == []

    async def test_deadlines_in_the_estate_time_zone(self, session):
        d, _, _ = await world(session)
        user = d.staff.user
        actor = await auth_service.actor_for(session, user=user)
        later = await service.queue(session, actor=actor, now=utcnow() + timedelta(days=10))
        assert all(i.urgency is AttentionUrgency.overdue for i in later.items if i.deadline is not None)

    async def test_anonymous_401(self, client):
        assert (await client.get(f"{API}/attention")).status_code == 401


class TestWallBoard:
    async def test_counts_every_kind_for_the_estate(self, client, session):
        d, _, _ = await world(session)
        await pay(client, d, amount="10.00")
        r = await client.get(f"{API}/estates/{d.estate.id}/attention", headers=d.staff.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["counts"]["order_to_confirm"] == 2 and body["overdue"]["order_to_confirm"] == 1
        assert body["counts"]["reply_promise"] == 1 and body["counts"]["cash_handover"] == 1
        assert body["counts"]["callback_due"] == 1 and body["counts"]["voucher_manifest"] == 0

    async def test_other_estate_404_anonymous_401(self, client, session):
        d, _, _ = await world(session)
        stranger = await make_staff(session, estates=[d.other], roles=[Role.supervisor])
        assert (await client.get(f"{API}/estates/{d.estate.id}/attention", headers=stranger.headers)).status_code == 404
        assert (await client.get(f"{API}/estates/{d.estate.id}/attention")).status_code == 401


async def test_complaints_reach_their_handler_the_supervisor_and_the_director(client, session):
    d = await desk(session)
    supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
    director = await make_staff(session, estates=[d.estate], roles=[Role.cs_director])
    r = await client.post(f"{API}/estates/{d.estate.id}/complaints", headers=d.staff.headers, json={
        "channel": "phone", "category": "noise", "severity": "high", "description": "楼上装修噪音，晚上十点还在施工"})
    assert r.status_code == 201, r.text
    complaint = r.json()

    def kinds(body: dict) -> list[str]:
        return [i["kind"] for i in body["items"] if i["entity"] == "complaint"]

    assert kinds((await client.get(f"{API}/attention", headers=supervisor.headers)).json()) == ["complaint_to_assign"]
    r = await client.post(f"{API}/complaints/{complaint['id']}/assign", headers=supervisor.headers,
                          json={"handler_id": str(d.staff.id)})
    assert r.status_code == 200, r.text
    mine = (await client.get(f"{API}/attention", headers=d.staff.headers)).json()
    assert kinds(mine) == ["complaint_handling"]
    assert kinds((await client.get(f"{API}/attention", headers=supervisor.headers)).json()) == []
    r = await client.post(f"{API}/complaints/{complaint['id']}/escalate", headers=d.staff.headers, json={"reason": "业主要求总监处理"})
    assert r.status_code == 200, r.text
    assert "complaint_escalated" in kinds((await client.get(f"{API}/attention", headers=director.headers)).json())
