"""One repair's whole life over HTTP: phone call, dispatch, voucher, charge, callback, rate."""
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.events.model import OutboxEvent
from app.domain.fees.model import Charge
from app.domain.notifications.model import OwnerNotification
from tests.factories import make_estate, make_staff
from tests.registry_factories import make_building, make_owner, make_unit

API = "/api/v1"


async def test_a_repair_from_the_phone_call_to_the_callback_rate(client, session):
    estate = await make_estate(session)
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="张师傅")
    supervisor = await make_staff(session, estates=[estate], roles=[Role.supervisor])
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), number="301")
    await make_owner(session, estate=estate, full_name="王建國", phones=["133 5173 7459"], units=[unit])

    # The owner rings; the number as typed links the owner and his unit.
    r = await client.post(f"{API}/estates/{estate.id}/service-requests", headers=desk.headers, json={
        "channel": "phone", "category": "plumbing", "description": "厨房水龙头漏水", "contact_phone": "+86 133-5173-7459"})
    assert r.status_code == 201, r.text
    assert r.json()["unit_id"] == str(unit.id) and "王" in r.json()["read_back"]
    order_id = r.json()["work_order_id"]

    # Tomorrow 09:00-10:00 local, inside office hours.
    tz = ZoneInfo(estate.time_zone)
    day = datetime.now(tz).date() + timedelta(days=1)
    start = datetime.combine(day, time(9), tzinfo=tz)
    r = await client.post(f"{API}/work-orders/{order_id}/dispatch", headers=desk.headers, json={
        "technician_id": str(tech.id), "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()})
    assert r.status_code == 200, r.text
    r = await client.post(f"{API}/work-orders/{order_id}/owner-code", headers=desk.headers)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    for step in ("accept", "start"):
        r = await client.post(f"{API}/work-orders/{order_id}/{step}", headers=tech.headers)
        assert r.status_code == 200, (step, r.text)

    voucher = {"work_done": "更换水龙头阀芯", "materials": [{"item": "阀芯", "quantity": "1", "unit": "个"}],
               "minutes_spent": 40, "chargeable": True, "amount": "45.00", "owner_confirmation": {"name": "王建國", "code": code}}
    r = await client.post(f"{API}/work-orders/{order_id}/voucher", headers=tech.headers, data={"voucher": json.dumps(voucher)})
    assert r.status_code == 201, r.text
    assert r.json()["order_status"] == "completed"
    callback_id = r.json()["callback_id"]
    charges = (await session.execute(select(Charge).where(Charge.unit_id == unit.id))).scalars().all()
    assert [str(c.amount) for c in charges] == ["45.00"]

    # The desk calls back; the owner is satisfied.
    r = await client.post(f"{API}/callbacks/{callback_id}/outcome", headers=desk.headers, json={"outcome": "satisfied", "score": 5})
    assert r.status_code == 200, r.text
    order = (await client.get(f"{API}/work-orders/{order_id}", headers=desk.headers)).json()
    assert order["status"] == "callback_done"
    r = await client.post(f"{API}/work-orders/{order_id}/cancel", headers=desk.headers, json={"reason": "mistake"})
    assert r.status_code == 409 and r.json()["current_state"] == "callback_done"
    assert r.json()["type"] == "/problems/illegal-transition"

    rate = (await client.get(f"{API}/estates/{estate.id}/callback-rate", headers=supervisor.headers)).json()
    assert (rate["completed"], rate["done_within_7_days"]) == (1, 1)

    # Each step told the outbox, in order, for webhooks and the desk's stream.
    events = (await session.execute(select(OutboxEvent.type, OutboxEvent.entity_id).where(OutboxEvent.estate_id == estate.id)
                                    .order_by(OutboxEvent.seq))).all()
    assert [t for t, _ in events] == ["request.registered", "order.dispatched", "owner_code.issued", "order.completed",
                                      "callback.done"]
    assert events[1].entity_id == order_id

    # The owner was told the appointment and the completion, by surname, on his mobile.
    told = (await session.execute(select(OwnerNotification.event_type, OwnerNotification.text, OwnerNotification.phone)
                                  .order_by(OwnerNotification.created_at))).all()
    assert [t.event_type for t in told] == ["order.dispatched", "owner_code.issued", "order.completed"]
    assert f"完工确认码为{code}" in told[1].text  # the owner's code, by SMS
    assert all(t.phone == "13351737459" and t.text.startswith("王") for t in told)
    assert f"{day.month}月{day.day}日上午9:00-10:00" in told[0].text
