"""A technician sees and works only his own orders; another's order does not exist for him."""
from __future__ import annotations

from app.domain.auth.roles import Role
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.schedule_model import Booking
from tests.factories import make_staff
from tests.helpers.dispatch import API, desk_world, dispatch, local, window
from tests.helpers.problems import assert_422, assert_invalid
from tests.registry_factories import count_rows
from tests.repairs_factories import make_order

S = WorkOrderStatus


class TestOwnOrdersOnly:
    async def test_list_shows_only_his_orders(self, client, session):
        w = await desk_world(session)
        rival = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        mine = await make_order(session, estate=w.estate, technician=w.tech.user, status=S.dispatched)
        await make_order(session, estate=w.estate, technician=rival.user, status=S.dispatched)
        r = await client.get(f"{API}/estates/{w.estate.id}/work-orders", headers=w.tech.headers)
        assert r.status_code == 200
        assert [o["id"] for o in r.json()["items"]] == [str(mine.id)]
        # Asking for someone else's orders does not widen the view.
        r = await client.get(f"{API}/estates/{w.estate.id}/work-orders", params={"technician_id": str(rival.id)}, headers=w.tech.headers)
        assert r.json()["total"] == 0
        # The desk sees all three.
        r = await client.get(f"{API}/estates/{w.estate.id}/work-orders", headers=w.desk.headers)
        assert r.json()["total"] == 3

    async def test_anothers_order_is_404_for_reading_and_every_verb(self, client, session):
        w = await desk_world(session)
        rival = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        theirs = await make_order(session, estate=w.estate, technician=rival.user, status=S.dispatched)
        assert (await client.get(f"{API}/work-orders/{theirs.id}", headers=w.tech.headers)).status_code == 404
        assert (await client.get(f"{API}/work-orders/{theirs.id}/task-sheet", headers=w.tech.headers)).status_code == 404
        for verb in ("accept", "start", "release"):
            r = await client.post(f"{API}/work-orders/{theirs.id}/{verb}", json={"reason": "x"}, headers=w.tech.headers)
            assert r.status_code == 404, verb
        # Unassigned orders are nobody's: not his to accept either.
        r = await client.post(f"{API}/work-orders/{w.order.id}/accept", headers=w.tech.headers)
        assert r.status_code == 404
        assert (await session.get(WorkOrder, theirs.id, populate_existing=True)).status == S.dispatched

    async def test_confirm_only_the_assigned_technician(self, client, session):
        w = await desk_world(session)
        rival = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        await client.post(f"{API}/work-orders/{w.order.id}/await-confirmation", json={"technician_id": str(w.tech.id)},
                          headers=w.desk.headers)
        body = window(local(14), local(15))
        assert (await client.post(f"{API}/work-orders/{w.order.id}/confirm", json=body, headers=rival.headers)).status_code == 404
        assert await count_rows(session, Booking) == 0
        r = await client.post(f"{API}/work-orders/{w.order.id}/confirm", json=body, headers=w.tech.headers)
        assert r.status_code == 200 and r.json()["booking"]["technician_id"] == str(w.tech.id), r.text

    async def test_confirm_clash_with_his_own_booking_is_409(self, client, session):
        w = await desk_world(session)
        first = await make_order(session, estate=w.estate)
        assert (await dispatch(client, w, local(14), local(16), order=first)).status_code == 200
        await client.post(f"{API}/work-orders/{w.order.id}/await-confirmation", json={"technician_id": str(w.tech.id)},
                          headers=w.desk.headers)
        r = await client.post(f"{API}/work-orders/{w.order.id}/confirm", json=window(local(15), local(17)), headers=w.tech.headers)
        assert r.status_code == 409 and r.json()["clashing_order_id"] == str(first.id)
        assert r.json()["type"] == "/problems/technician-already-booked"
        assert (await session.get(WorkOrder, w.order.id, populate_existing=True)).status == S.awaiting_technician_confirmation

    async def test_bad_confirm_input_writes_nothing(self, client, session):
        w = await desk_world(session)
        await client.post(f"{API}/work-orders/{w.order.id}/await-confirmation", json={"technician_id": str(w.tech.id)},
                          headers=w.desk.headers)
        url = f"{API}/work-orders/{w.order.id}/confirm"
        refusals = iter([("validation-failed", "start"), ("validation-failed",), ("validation-failed",),
                         ("validation-failed", "start")])
        for body in ({"start": "2030-01-07T09:00:00", "end": "2030-01-07T10:00:00"}, window(local(15), local(14)),
                     window(local(9), local(9, days=3)), {"start": "x"}):
            assert_invalid(await client.post(url, json=body, headers=w.tech.headers), *next(refusals))
        assert await count_rows(session, Booking) == 0

    async def test_release_without_reason_is_422(self, client, session):
        w = await desk_world(session)
        await dispatch(client, w, local(9), local(10))
        r = await client.post(f"{API}/work-orders/{w.order.id}/release", json={"reason": "  "}, headers=w.tech.headers)
        assert r.status_code == 422
        assert_422(r, "reason")
        assert await count_rows(session, Booking, Booking.active.is_(True)) == 1
