"""A technician cannot be double-booked: PostgreSQL's exclusion constraint decides, even under concurrency."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError

from app.domain.auth.roles import Role
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.schedule_model import Booking
from tests.factories import make_staff
from tests.helpers.dispatch import API, desk_world, dispatch, local
from tests.registry_factories import count_rows
from tests.repairs_factories import make_order


class TestDoubleBooking:
    async def test_two_desks_at_once_only_one_wins(self, client, session):
        w = await desk_world(session)
        second = await make_order(session, estate=w.estate)
        results = await asyncio.gather(
            dispatch(client, w, local(9), local(10)),
            dispatch(client, w, local(9, 30), local(10, 30), order=second),
        )
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        loser = next(r for r in results if r.status_code == 409).json()
        winner = next(r for r in results if r.status_code == 200).json()
        assert loser["type"] == "/problems/technician-already-booked"
        assert loser["clashing_order_id"] == winner["id"]
        assert await count_rows(session, Booking, Booking.active.is_(True)) == 1
        statuses = (await session.execute(select(WorkOrder.status).order_by(WorkOrder.status))).scalars().all()
        assert sorted(statuses) == ["dispatched", "pending_dispatch"]

    async def test_sequential_overlap_names_the_clashing_order(self, client, session):
        w = await desk_world(session)
        second = await make_order(session, estate=w.estate)
        assert (await dispatch(client, w, local(9), local(10))).status_code == 200
        r = await dispatch(client, w, local(8), local(9, 1), order=second)
        assert r.status_code == 409 and r.json()["clashing_order_id"] == str(w.order.id), r.text
        assert r.json()["type"] == "/problems/technician-already-booked"
        assert (await session.get(WorkOrder, second.id)).status == WorkOrderStatus.pending_dispatch
        assert await count_rows(session, Booking) == 1

    async def test_back_to_back_windows_both_succeed(self, client, session):
        w = await desk_world(session)
        second = await make_order(session, estate=w.estate)
        results = await asyncio.gather(
            dispatch(client, w, local(8), local(9)),
            dispatch(client, w, local(9), local(10), order=second),
        )
        assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
        assert await count_rows(session, Booking, Booking.active.is_(True)) == 2

    async def test_two_technicians_same_window(self, client, session):
        w = await desk_world(session)
        other_tech = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        second = await make_order(session, estate=w.estate)
        results = await asyncio.gather(
            dispatch(client, w, local(9), local(10)),
            dispatch(client, w, local(9), local(10), tech=other_tech, order=second),
        )
        assert [r.status_code for r in results] == [200, 200]

    async def test_constraint_holds_without_the_api(self, session):
        # The database refuses the overlap itself, whatever code writes the row.
        w = await desk_world(session)
        second = await make_order(session, estate=w.estate)
        for order, (s, e) in ((w.order, (9, 11)), (second, (10, 12))):
            session.add(Booking(estate_id=w.estate.id, technician_id=w.tech.id, work_order_id=order.id,
                                during=Range(local(s), local(e))))
        with pytest.raises(IntegrityError) as exc:
            await session.commit()
        assert exc.value.orig.sqlstate == "23P01"

    async def test_released_booking_frees_the_slot(self, client, session):
        w = await desk_world(session)
        second = await make_order(session, estate=w.estate)
        await dispatch(client, w, local(9), local(10))
        await client.post(f"{API}/work-orders/{w.order.id}/release", json={"reason": "臨時有事"}, headers=w.tech.headers)
        assert (await dispatch(client, w, local(9), local(10), order=second)).status_code == 200
