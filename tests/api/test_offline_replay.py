"""Replaying a technician's queued actions: device times beside the server's, and orders taken meanwhile."""
from __future__ import annotations

from datetime import timedelta

from app.domain.base import utcnow
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.notes_model import WorkOrderNote
from app.domain.repairs.vouchers.model import Voucher
from tests.helpers.dispatch import local, window
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.helpers.sync import API, queued, technician_round, voucher_form
from tests.registry_factories import count_rows
from tests.repairs_factories import make_order

S = WorkOrderStatus


async def reassign(client, w, order, tech):
    r = await client.post(f"{API}/work-orders/{order.id}/reassign", headers=w.desk.headers,
                          json=window(local(9), local(10), technician_id=str(tech.id)))
    assert r.status_code == 200, r.text
    return r


class TestDeviceTime:
    async def test_start_records_the_phones_time_beside_the_servers(self, client, session):
        w = await technician_round(session)
        at = utcnow() - timedelta(hours=2)
        r = await client.post(f"{API}/work-orders/{w.orders[0].id}/start", headers=queued(w.tech, "start-1", at))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["started_on_device_at"].startswith(at.isoformat()[:19])
        assert body["started_at"] > body["started_on_device_at"]

    async def test_absurd_device_times_are_422_naming_the_header_and_write_nothing(self, client, session):
        w = await technician_round(session)
        order = w.orders[0]
        for at, problem in ((utcnow() + timedelta(hours=1), "device-time-in-future"),
                            (order.created_at - timedelta(days=2), "device-time-before-order")):
            r = await client.post(f"{API}/work-orders/{order.id}/start", headers=queued(w.tech, f"k-{problem}", at))
            assert_invalid(r, problem, "X-Device-Time")
            r = await client.post(f"{API}/work-orders/{order.id}/voucher", data=voucher_form(),
                                  headers=queued(w.tech, f"v-{problem}", at))
            assert_invalid(r, problem, "X-Device-Time")
            r = await client.post(f"{API}/work-orders/{order.id}/notes", json={"text": "業主下午不在家"},
                                  headers=queued(w.tech, f"n-{problem}", at))
            assert_invalid(r, problem, "X-Device-Time")
        for bad in ("2026-12-08T09:30:00", "yesterday", "2026-13-40T00:00:00+08:00"):
            r = await client.post(f"{API}/work-orders/{order.id}/start", headers={**w.tech.headers, "X-Device-Time": bad})
            assert_422(r, "X-Device-Time")
        order_id = order.id
        session.expire_all()
        assert (await session.get(WorkOrder, order_id)).status == S.dispatched
        assert await count_rows(session, Voucher) == 0 and await count_rows(session, WorkOrderNote) == 0

    async def test_a_note_for_the_callback(self, client, session):
        w = await technician_round(session)
        at = utcnow() - timedelta(minutes=30)
        r = await client.post(f"{API}/work-orders/{w.orders[0].id}/notes", json={"text": "閥門老化，可能再漏"},
                              headers=queued(w.tech, "note-1", at))
        assert r.status_code == 201, r.text
        assert r.headers["Location"] == f"{API}/work-orders/{w.orders[0].id}/notes"
        listed = (await client.get(f"{API}/work-orders/{w.orders[0].id}/notes", headers=w.desk.headers)).json()
        assert [(n["text"], n["noted_on_device_at"][:19]) for n in listed] == [("閥門老化，可能再漏", at.isoformat()[:19])]
        # Not on another's order, nor without text.
        r = await client.post(f"{API}/work-orders/{w.rivals_order.id}/notes", json={"text": "x"}, headers=w.tech.headers)
        assert_problem(r, 404, "work-order-not-found")
        assert_422(await client.post(f"{API}/work-orders/{w.orders[0].id}/notes", json={"text": ""}, headers=w.tech.headers),
                   "text")
        assert (await client.get(f"{API}/work-orders/{w.rivals_order.id}/notes", headers=w.tech.headers)).status_code == 404
        assert (await client.get(f"{API}/work-orders/{w.orders[0].id}/notes", headers=w.rival.headers)).status_code == 404


class TestTakenMeanwhile:
    async def test_reassigned_order_answers_what_happened_not_to_whom(self, client, session):
        w = await technician_round(session)
        order = w.orders[0]
        await reassign(client, w, order, w.rival)
        at = utcnow() - timedelta(minutes=10)
        for path, kw in (("start", {}), ("voucher", {"data": voucher_form()}), ("notes", {"json": {"text": "x"}})):
            r = await client.post(f"{API}/work-orders/{order.id}/{path}", headers=queued(w.tech, f"late-{path}", at), **kw)
            body = assert_problem(r, 409, "order-reassigned")
            assert (body["order_number"], body["how"], body["now_with"]) == (order.number, "reassigned", "technician")
            assert "劉師傅" not in r.text and str(w.rival.id) not in r.text
        zh = await client.post(f"{API}/work-orders/{order.id}/start", headers={**w.tech.headers, "Accept-Language": "zh-CN"})
        assert zh.json()["title"] == "该工单在此期间已被改派或退回，不再由您处理"
        order_id = order.id
        session.expire_all()
        assert (await session.get(WorkOrder, order_id)).started_at is None
        assert await count_rows(session, Voucher) == 0 and await count_rows(session, WorkOrderNote) == 0
        # The new technician works it as usual.
        assert (await client.post(f"{API}/work-orders/{order_id}/start", headers=w.rival.headers)).status_code == 200

    async def test_cancelled_and_released_orders(self, client, session):
        w = await technician_round(session)
        r = await client.post(f"{API}/work-orders/{w.orders[1].id}/cancel", json={"reason": "業主自行修好"}, headers=w.desk.headers)
        assert r.status_code == 200
        body = assert_problem(await client.post(f"{API}/work-orders/{w.orders[1].id}/start", headers=w.tech.headers),
                              409, "order-cancelled")
        assert body["reason"] == "業主自行修好" and body["at"]
        assert (await client.post(f"{API}/work-orders/{w.orders[2].id}/release", json={"reason": "車壞了"},
                                  headers=w.tech.headers)).status_code == 200
        body = assert_problem(await client.post(f"{API}/work-orders/{w.orders[2].id}/start", headers=w.tech.headers),
                              409, "order-reassigned")
        assert (body["how"], body["now_with"]) == ("released", "desk")

    async def test_an_order_never_his_stays_404(self, client, session):
        w = await technician_round(session)
        r = await client.post(f"{API}/work-orders/{w.rivals_order.id}/start", headers=queued(w.tech, "k", utcnow()))
        assert_problem(r, 404, "work-order-not-found")
        theirs = await make_order(session, estate=w.other, technician=w.tech.user, status=S.dispatched)
        r = await client.post(f"{API}/work-orders/{theirs.id}/start", headers=w.rival.headers)
        assert_problem(r, 404, "work-order-not-found")

    async def test_reassign_is_the_desks_and_only_while_dispatched(self, client, session):
        w = await technician_round(session)
        r = await client.post(f"{API}/work-orders/{w.orders[0].id}/reassign", headers=w.tech.headers,
                              json=window(local(9), local(10), technician_id=str(w.rival.id)))
        assert_problem(r, 403, "forbidden")
        r = await client.post(f"{API}/work-orders/{w.done.id}/reassign", headers=w.desk.headers,
                              json=window(local(9), local(10), technician_id=str(w.rival.id)))
        assert_problem(r, 409, "illegal-transition")
        r = await client.post(f"{API}/work-orders/{w.orders[0].id}/reassign", headers=w.desk.headers,
                              json=window(local(9), local(10), technician_id=str(w.desk.id)))
        assert_invalid(r, "not-a-technician-of-estate", "technician_id")
        r = await client.post(f"{API}/work-orders/{w.orders[0].id}/reassign", headers=w.desk.headers,
                              json=window(local(10), local(9), technician_id=str(w.rival.id)))
        assert_invalid(r, "validation-failed")  # a backwards window
        theirs = await make_order(session, estate=w.other, technician=w.tech.user, status=S.dispatched)
        r = await client.post(f"{API}/work-orders/{theirs.id}/reassign", headers=w.desk.headers,
                              json=window(local(9), local(10), technician_id=str(w.rival.id)))
        assert_problem(r, 404, "work-order-not-found")
        order_id, tech_id = w.orders[0].id, w.tech.id
        session.expire_all()
        assert (await session.get(WorkOrder, order_id)).technician_id == tech_id
