"""Dispatching work orders over HTTP: the life of an order, the reply promise (§7.3.7), cancel, bad input."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.repairs.model import RequestStatus, ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.schedule_model import Booking, ReplyPromise
from tests.factories import make_staff
from tests.helpers.dispatch import API, desk_world, dispatch, local, window
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows
from tests.repairs_factories import make_order

S = WorkOrderStatus


class TestLifeOfAnOrder:
    async def test_dispatch_accept_start(self, client, session):
        w = await desk_world(session)
        r = await dispatch(client, w, local(9), local(10))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["technician_id"], body["technician_name"]) == ("dispatched", str(w.tech.id), "張師傅")
        assert body["allowed_actions"] == ["accept", "cancel", "reassign", "release", "start"]
        assert body["booking"]["active"] and body["unit_label"] == "8号楼2单元301"
        r = await client.post(f"{API}/work-orders/{w.order.id}/accept", headers=w.tech.headers)
        assert r.status_code == 200 and r.json()["accepted_at"], r.text
        r = await client.post(f"{API}/work-orders/{w.order.id}/start", headers=w.tech.headers)
        assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.entity == "work_order")
                                         .order_by(AuditEntry.at, AuditEntry.id))).scalars().all()
        assert sorted(actions) == ["work_order.accept", "work_order.dispatch", "work_order.start"]
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "booking") == 1

    async def test_get_and_list_show_the_order(self, client, session):
        w = await desk_world(session)
        await dispatch(client, w, local(9), local(10))
        other = await make_order(session, estate=w.estate)
        r = await client.get(f"{API}/work-orders/{w.order.id}", headers=w.desk.headers)
        assert r.status_code == 200 and r.json()["request"]["channel"] == "phone", r.text
        r = await client.get(f"{API}/estates/{w.estate.id}/work-orders", params={"status": ["dispatched"]}, headers=w.desk.headers)
        assert [o["id"] for o in r.json()["items"]] == [str(w.order.id)]
        r = await client.get(f"{API}/estates/{w.estate.id}/work-orders",
                             params={"status": ["dispatched", "pending_dispatch"], "sort": "scheduled_start"}, headers=w.desk.headers)
        assert [o["id"] for o in r.json()["items"]] == [str(w.order.id), str(other.id)]
        r = await client.get(f"{API}/estates/{w.estate.id}/work-orders",
                             params={"scheduled_from": local(9).isoformat(), "scheduled_to": local(9, 30).isoformat()},
                             headers=w.desk.headers)
        assert r.json()["total"] == 1
        r = await client.get(f"{API}/estates/{w.estate.id}/work-orders", params={"technician_id": str(w.desk.id)}, headers=w.desk.headers)
        assert r.json()["total"] == 0

    async def test_task_sheet_in_local_time(self, client, session):
        w = await desk_world(session)
        await dispatch(client, w, local(9), local(10, 30))
        r = await client.get(f"{API}/work-orders/{w.order.id}/task-sheet", headers=w.tech.headers)
        assert r.status_code == 200, r.text
        sheet = r.json()
        day = local(9).date().isoformat()
        assert sheet["office_name"] == "淇水春天管理處" and sheet["unit_label"] == "8号楼2单元301"
        assert sheet["scheduled_window"] == f"{day} 09:00–10:30" and sheet["technician_name"] == "張師傅"
        assert len(sheet["materials"]) == 5

    async def test_cancel_frees_the_booking_and_cancels_the_request(self, client, session):
        w = await desk_world(session)
        await dispatch(client, w, local(9), local(10))
        r = await client.post(f"{API}/work-orders/{w.order.id}/cancel", json={"reason": "業主自行修好"}, headers=w.desk.headers)
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
        assert await count_rows(session, Booking, Booking.active.is_(True)) == 0
        request = (await session.execute(select(ServiceRequest))).scalar_one()
        assert request.status == RequestStatus.cancelled
        # The technician's time is free again for another order.
        second = await make_order(session, estate=w.estate)
        assert (await dispatch(client, w, local(9), local(10), order=second)).status_code == 200

    async def test_release_by_technician_returns_it_to_the_desk(self, client, session):
        w = await desk_world(session)
        await dispatch(client, w, local(9), local(10))
        r = await client.post(f"{API}/work-orders/{w.order.id}/release", json={"reason": "去醫院"}, headers=w.tech.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["technician_id"], r.json()["booking"]) == ("pending_dispatch", None, None)
        assert await count_rows(session, Booking, Booking.active.is_(True)) == 0


class TestIllegalTransitions:
    async def test_start_a_completed_order_is_409_with_the_state(self, client, session):
        w = await desk_world(session)
        order = await make_order(session, estate=w.estate, technician=w.tech.user, status=S.completed)
        r = await client.post(f"{API}/work-orders/{order.id}/start", headers=w.tech.headers)
        assert r.status_code == 409
        assert (r.json()["type"], r.json()["current_state"]) == ("/problems/illegal-transition", "completed")

    async def test_dispatch_a_completed_or_cancelled_order(self, client, session):
        w = await desk_world(session)
        done = await make_order(session, estate=w.estate, technician=w.tech.user, status=S.completed)
        r = await dispatch(client, w, local(9), local(10), order=done)
        assert r.status_code == 409 and r.json()["current_state"] == "completed"
        assert r.json()["type"] == "/problems/illegal-transition"
        await client.post(f"{API}/work-orders/{w.order.id}/cancel", json={"reason": "重複登記"}, headers=w.desk.headers)
        r = await client.post(f"{API}/work-orders/{w.order.id}/cancel", json={"reason": "再取消"}, headers=w.desk.headers)
        assert r.status_code == 409 and r.json()["current_state"] == "cancelled"
        assert r.json()["type"] == "/problems/illegal-transition"
        assert await count_rows(session, Booking) == 0

    async def test_confirm_when_not_awaiting(self, client, session):
        w = await desk_world(session)
        await dispatch(client, w, local(9), local(10))
        r = await client.post(f"{API}/work-orders/{w.order.id}/confirm", json=window(local(14), local(15)), headers=w.tech.headers)
        assert r.status_code == 409 and r.json()["current_state"] == "dispatched"
        assert r.json()["type"] == "/problems/illegal-transition"
        assert await count_rows(session, Booking) == 1


class TestReplyPromise:
    async def test_no_one_free_then_technician_names_time_then_owner_told(self, client, session):
        w = await desk_world(session)
        r = await client.post(f"{API}/work-orders/{w.order.id}/await-confirmation",
                              json={"technician_id": str(w.tech.id), "reply_within_minutes": 20}, headers=w.desk.headers)
        assert r.status_code == 200 and r.json()["status"] == "awaiting_technician_confirmation", r.text
        due = datetime.fromisoformat(r.json()["reply_promise"]["due_at"])
        assert timedelta(minutes=19) < due - utcnow() <= timedelta(minutes=20)
        promises = await client.get(f"{API}/estates/{w.estate.id}/reply-promises", headers=w.desk.headers)
        assert [p["work_order_id"] for p in promises.json()["items"]] == [str(w.order.id)]
        r = await client.post(f"{API}/work-orders/{w.order.id}/owner-told", json={}, headers=w.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/reply-not-confirmed"
        r = await client.post(f"{API}/work-orders/{w.order.id}/confirm", json=window(local(19), local(20)), headers=w.tech.headers)
        assert r.status_code == 200 and r.json()["status"] == "dispatched", r.text
        assert r.json()["reply_promise"]["confirmed_start"] is not None
        r = await client.post(f"{API}/work-orders/{w.order.id}/owner-told", json={}, headers=w.desk.headers)
        assert r.status_code == 200 and r.json()["reply_promise"] is None, r.text
        promise = (await session.execute(select(ReplyPromise))).scalar_one()
        assert promise.owner_told_by == w.desk.id and promise.closed_at is not None
        promises = await client.get(f"{API}/estates/{w.estate.id}/reply-promises", headers=w.desk.headers)
        assert promises.json()["total"] == 0

    async def test_overdue_promises_first(self, client, session):
        w = await desk_world(session)
        late = await make_order(session, estate=w.estate)
        for order, minutes in ((w.order, 30), (late, 5)):
            await client.post(f"{API}/work-orders/{order.id}/await-confirmation", json={"reply_within_minutes": minutes},
                              headers=w.desk.headers)
        promise = (await session.execute(select(ReplyPromise).where(ReplyPromise.work_order_id == late.id))).scalar_one()
        promise.due_at = utcnow() - timedelta(minutes=3)
        await session.commit()
        r = await client.get(f"{API}/estates/{w.estate.id}/reply-promises", headers=w.desk.headers)
        assert [(p["work_order_id"], p["overdue"]) for p in r.json()["items"]] == [(str(late.id), True), (str(w.order.id), False)]
        r = await client.get(f"{API}/estates/{w.estate.id}/reply-promises", params={"state": "overdue"}, headers=w.desk.headers)
        assert r.json()["total"] == 1

    async def test_desk_dispatches_someone_else_instead(self, client, session):
        w = await desk_world(session)
        await client.post(f"{API}/work-orders/{w.order.id}/await-confirmation", json={}, headers=w.desk.headers)
        r = await dispatch(client, w, local(14), local(15))
        assert r.status_code == 200 and r.json()["reply_promise"]["confirmed_start"] is not None, r.text

    async def test_reply_within_out_of_range(self, client, session):
        w = await desk_world(session)
        for minutes in (0, 241, "x"):
            r = await client.post(f"{API}/work-orders/{w.order.id}/await-confirmation", json={"reply_within_minutes": minutes},
                                  headers=w.desk.headers)
            assert r.status_code == 422
            assert_422(r, "reply_within_minutes")
        assert await count_rows(session, ReplyPromise) == 0


class TestAuditedByConstruction:
    """The promise's and the booking's changes leave entries, as the order's always did."""

    async def _trail(self, session, entity: str) -> list[str]:
        return list((await session.execute(select(AuditEntry.action).where(AuditEntry.entity == entity)
                                           .order_by(AuditEntry.id))).scalars())

    async def test_promise_confirmed_then_withdrawn_and_booking_released(self, client, session):
        w = await desk_world(session)
        r = await client.post(f"{API}/work-orders/{w.order.id}/await-confirmation",
                              json={"technician_id": str(w.tech.id), "reply_within_minutes": 20}, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        r = await client.post(f"{API}/work-orders/{w.order.id}/confirm", json=window(local(19), local(20)), headers=w.tech.headers)
        assert r.status_code == 200, r.text
        r = await client.post(f"{API}/work-orders/{w.order.id}/cancel", json={"reason": "業主自行修好"}, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        assert await self._trail(session, "reply_promise") == ["create", "reply_promise.confirm", "reply_promise.withdraw"]
        assert await self._trail(session, "booking") == ["create", "booking.release"]
        assert await self._trail(session, "service_request") == ["cancel"]  # the factory made it unaudited
        promise = (await session.execute(select(ReplyPromise))).scalar_one()
        assert (promise.status, promise.withdrawn_reason) == ("withdrawn", "業主自行修好")

    async def test_owner_told_closes_the_promise_in_its_state(self, client, session):
        w = await desk_world(session)
        await client.post(f"{API}/work-orders/{w.order.id}/await-confirmation",
                          json={"technician_id": str(w.tech.id), "reply_within_minutes": 20}, headers=w.desk.headers)
        await client.post(f"{API}/work-orders/{w.order.id}/confirm", json=window(local(19), local(20)), headers=w.tech.headers)
        r = await client.post(f"{API}/work-orders/{w.order.id}/owner-told", json={}, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        assert (await session.execute(select(ReplyPromise.status))).scalar_one() == "told"
        assert (await self._trail(session, "reply_promise"))[-1] == "owner_told"


class TestBadInput:
    async def test_naive_backwards_and_unknown_technician(self, client, session):
        w = await desk_world(session)
        url = f"{API}/work-orders/{w.order.id}/dispatch"
        naive = {"start": "2030-01-07T09:00:00", "end": "2030-01-07T10:00:00", "technician_id": str(w.tech.id)}
        assert (await client.post(url, json=naive, headers=w.desk.headers)).status_code == 422
        backwards = window(local(10), local(9), technician_id=str(w.tech.id))
        assert (await client.post(url, json=backwards, headers=w.desk.headers)).status_code == 422
        r = await dispatch(client, w, local(9), local(10), tech=w.desk)
        assert r.status_code == 422 and r.json()["type"] == "/problems/not-a-technician-of-estate"
        stranger = await make_staff(session, estates=[w.other], roles=[Role.technician])
        assert (await dispatch(client, w, local(9), local(10), tech=stranger)).status_code == 422
        assert await count_rows(session, Booking) == 0
        assert (await session.get(WorkOrder, w.order.id, populate_existing=True)).status == S.pending_dispatch

    async def test_outside_working_hours(self, client, session):
        w = await desk_world(session)
        for start, end in ((local(7), local(8, 30)), (local(11), local(14, 30)), (local(17), local(9, days=2))):
            r = await dispatch(client, w, start, end)
            assert r.status_code == 422 and r.json()["type"] == "/problems/outside-working-hours", r.text
        assert await count_rows(session, Booking) == 0

    async def test_cancel_needs_a_reason(self, client, session):
        w = await desk_world(session)
        for body in ({}, {"reason": ""}, {"reason": "\x00"}, {"reason": "x" * 201}):
            r = await client.post(f"{API}/work-orders/{w.order.id}/cancel", json=body, headers=w.desk.headers)
            assert r.status_code == 422
            assert_422(r, "reason")
        assert (await session.get(WorkOrder, w.order.id, populate_existing=True)).status == S.pending_dispatch


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        w = await desk_world(session)
        oid = w.order.id
        for method, url in (("GET", f"/estates/{w.estate.id}/work-orders"), ("GET", f"/work-orders/{oid}"),
                            ("GET", f"/work-orders/{oid}/task-sheet"), ("POST", f"/work-orders/{oid}/dispatch"),
                            ("POST", f"/work-orders/{oid}/await-confirmation"), ("POST", f"/work-orders/{oid}/confirm"),
                            ("POST", f"/work-orders/{oid}/owner-told"), ("POST", f"/work-orders/{oid}/accept"),
                            ("POST", f"/work-orders/{oid}/start"), ("POST", f"/work-orders/{oid}/release"),
                            ("POST", f"/work-orders/{oid}/cancel"), ("GET", f"/estates/{w.estate.id}/reply-promises")):
            assert (await client.request(method, API + url, json={})).status_code == 401, url

    async def test_desk_verbs_refused_to_technician_and_finance(self, client, session):
        w = await desk_world(session)
        finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
        body = window(local(9), local(10), technician_id=str(w.tech.id))
        for who in (w.tech, finance):
            assert (await client.post(f"{API}/work-orders/{w.order.id}/dispatch", json=body, headers=who.headers)).status_code == 403
            for verb in ("await-confirmation", "owner-told", "cancel"):
                r = await client.post(f"{API}/work-orders/{w.order.id}/{verb}", json={"reason": "x"}, headers=who.headers)
                assert r.status_code == 403
        assert (await client.get(f"{API}/work-orders/{w.order.id}", headers=finance.headers)).status_code == 403
        assert (await client.get(f"{API}/estates/{w.estate.id}/reply-promises", headers=finance.headers)).status_code == 403
        assert await count_rows(session, Booking) == 0

    async def test_technician_verbs_refused_to_the_desk(self, client, session):
        w = await desk_world(session)
        await dispatch(client, w, local(9), local(10))
        for verb in ("accept", "start", "release", "confirm"):
            r = await client.post(f"{API}/work-orders/{w.order.id}/{verb}", json={"reason": "x"}, headers=w.desk.headers)
            assert r.status_code == 403

    async def test_other_estate_404(self, client, session):
        w = await desk_world(session)
        theirs = await make_order(session, estate=w.other)
        oid = theirs.id
        assert (await client.get(f"{API}/work-orders/{oid}", headers=w.desk.headers)).status_code == 404
        assert (await client.get(f"{API}/work-orders/{oid}/task-sheet", headers=w.desk.headers)).status_code == 404
        assert (await client.get(f"{API}/estates/{w.other.id}/work-orders", headers=w.desk.headers)).status_code == 404
        assert (await client.get(f"{API}/estates/{w.other.id}/reply-promises", headers=w.desk.headers)).status_code == 404
        r = await client.post(f"{API}/work-orders/{oid}/dispatch", json=window(local(9), local(10), technician_id=str(w.tech.id)),
                              headers=w.desk.headers)
        assert r.status_code == 404
        for verb, body in (("await-confirmation", {}), ("owner-told", {}), ("cancel", {"reason": "x"})):
            assert (await client.post(f"{API}/work-orders/{oid}/{verb}", json=body, headers=w.desk.headers)).status_code == 404
        assert await count_rows(session, Booking) == 0
