"""The demo's repair history: enough of every state for the repair reports to show content."""
from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import demo
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback
from app.domain.fees.payments.model import DocumentCounter
from app.domain.registry.model import Estate
from app.domain.repairs import numbers
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.owner_code_model import OwnerCode
from app.domain.repairs.orders.schedule_model import Booking
from app.domain.repairs.vouchers.model import ConfirmedBy, Voucher


@pytest.mark.demo
async def test_demo_has_weeks_of_repairs_in_every_state(session):
    states = dict((await session.execute(select(WorkOrder.status, func.count()).group_by(WorkOrder.status))).all())
    assert sum(states.values()) > 300
    for state in (WorkOrderStatus.pending_dispatch, WorkOrderStatus.completed, WorkOrderStatus.callback_done):
        assert states.get(state.value, 0) > 0, states
    oldest = (await session.execute(select(func.min(ServiceRequest.created_at)))).scalar_one()
    assert oldest < utcnow() - timedelta(days=28)
    completed = (await session.execute(select(func.count()).select_from(WorkOrder).where(WorkOrder.completed_at.is_not(None)))).scalar_one()
    assert (await session.execute(select(func.count()).select_from(Voucher))).scalar_one() == completed
    assert (await session.execute(select(func.count()).select_from(Callback))).scalar_one() == completed
    # Some callbacks were made in time, some late, some never: the rate report has something to say.
    in_time = (await session.execute(select(func.count()).select_from(Callback).where(Callback.done_at <= Callback.due_at))).scalar_one()
    late = (await session.execute(select(func.count()).select_from(Callback).where(Callback.done_at > Callback.due_at))).scalar_one()
    assert in_time > late > 0


@pytest.mark.demo
@pytest.mark.demo_loaded_only  # an old release confirmed with the derived code, which left no owner_code row
async def test_demo_in_unit_vouchers_were_confirmed_with_a_used_owner_code(session):
    stmt = (select(Voucher.owner_confirmed_by, OwnerCode.status, func.count())
            .outerjoin(OwnerCode, OwnerCode.work_order_id == Voucher.work_order_id)
            .group_by(Voucher.owner_confirmed_by, OwnerCode.status))
    seen = {(how, status): n for how, status, n in (await session.execute(stmt)).all()}
    assert set(seen) <= {(ConfirmedBy.code.value, "consumed"), (ConfirmedBy.none.value, None)}, seen
    assert seen.get((ConfirmedBy.code.value, "consumed"), 0) > 0


async def _numbers_in_creation_order(session, estate: Estate, model, series: numbers.Series) -> None:
    tz = ZoneInfo(estate.time_zone)
    rows = (await session.execute(select(model.created_at, model.number).where(model.estate_id == estate.id)
                                  .order_by(model.created_at, model.id))).all()
    assert rows, (estate.code, series)
    seq: dict[int, int] = {}
    for created_at, number in rows:
        year = created_at.astimezone(tz).year
        seq[year] = seq.get(year, 0) + 1
        assert number == numbers.format_number(estate_code=estate.code, series=series, year=year, seq=seq[year])
    counters = dict((await session.execute(select(DocumentCounter.year, DocumentCounter.last_seq).where(
        DocumentCounter.estate_id == estate.id, DocumentCounter.series == series.value))).all())
    assert counters == seq


@pytest.mark.demo
async def test_demo_requests_and_orders_are_numbered_in_creation_order(session):
    """Loaded by today's loader or numbered by the migration on an old office's rows: the same numbers."""
    for estate in (await session.execute(select(Estate))).scalars():
        await _numbers_in_creation_order(session, estate, ServiceRequest, numbers.Series.service_request)
        await _numbers_in_creation_order(session, estate, WorkOrder, numbers.Series.work_order)


@pytest.mark.demo
async def test_a_live_request_continues_the_demo_numbers(client, session):
    qs = (await session.execute(select(Estate).where(Estate.code == "QS"))).scalar_one()
    year = utcnow().astimezone(ZoneInfo(qs.time_zone)).year
    last = dict((await session.execute(select(DocumentCounter.series, DocumentCounter.last_seq).where(
        DocumentCounter.estate_id == qs.id, DocumentCounter.year == year))).all())
    login = await client.post("/api/v1/auth/login", json={"username": "qs.reception", "password": demo.DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    r = await client.post(f"/api/v1/estates/{qs.id}/service-requests", headers=headers, json={
        "channel": "walk_in", "category": "plumbing", "description": "厨房水龙头漏水", "location": "3号楼电梯厅"})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == f"QS-BX-{year}-{last.get('service_request', 0) + 1:06d}"
    assert r.json()["work_order_number"] == f"QS-WX-{year}-{last.get('work_order', 0) + 1:06d}"
S = WorkOrderStatus
UNBOOKED = {S.pending_dispatch, S.awaiting_technician_confirmation, S.cancelled, S.reopened}


@pytest.mark.demo
@pytest.mark.demo_loaded_only  # an old release booked no technician's time: its orders held no booking row
async def test_demo_orders_hold_the_bookings_dispatch_leaves(session):
    bookings = defaultdict(list)
    for b in (await session.execute(select(Booking))).scalars():
        bookings[b.work_order_id].append(b)
    orders = (await session.execute(select(WorkOrder))).scalars().all()
    dispatched = [o for o in orders if WorkOrderStatus(o.status) not in UNBOOKED]
    assert {o.estate_id for o in dispatched if o.status == S.dispatched and o.scheduled_start > utcnow()} == {o.estate_id for o in orders}
    for order in orders:
        active = [b for b in bookings[order.id] if b.active]
        if WorkOrderStatus(order.status) in UNBOOKED:
            assert active == [], order.status
            continue
        # dispatch.book held [start, end); end_bookings kept only the part worked once completed.
        assert len(active) == 1, (order.status, order.id)
        [held] = active
        upper = min(order.scheduled_end, order.completed_at) if order.completed_at else order.scheduled_end
        assert (held.technician_id, held.estate_id) == (order.technician_id, order.estate_id)
        assert (held.during.lower, held.during.upper) == (order.scheduled_start, upper), order.status


async def _sign_in(client, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": demo.DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.demo
@pytest.mark.demo_loaded_only  # the same: an upgraded old demo has no bookings to find
async def test_demo_booked_technician_is_busy_and_cannot_be_booked_twice(client, session):
    headers = await _sign_in(client, "qs.reception")
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    [estate_id] = me["estate_ids"]
    # Tomorrow's dispatched orders sit inside office hours, where the desk would book.
    booked = (await session.execute(
        select(WorkOrder).where(WorkOrder.estate_id == estate_id, WorkOrder.status == S.dispatched,
                                WorkOrder.scheduled_start > utcnow()).order_by(WorkOrder.scheduled_start, WorkOrder.id).limit(1)
    )).scalar_one()
    window = {"start": booked.scheduled_start.isoformat(), "end": booked.scheduled_end.isoformat()}
    r = await client.get(f"/api/v1/estates/{estate_id}/technicians/availability", params=window, headers=headers)
    assert r.status_code == 200, r.text
    him = next(t for t in r.json()["technicians"] if t["technician_id"] == str(booked.technician_id))
    assert (him["free"], him["reason"], him["clashing_order_ids"]) == (False, "booked", [str(booked.id)])
    waiting = (await session.execute(
        select(WorkOrder).where(WorkOrder.estate_id == estate_id, WorkOrder.status == S.pending_dispatch).limit(1))).scalar_one()
    before = (await session.execute(select(func.count()).select_from(Booking))).scalar_one()
    r = await client.post(f"/api/v1/work-orders/{waiting.id}/dispatch", headers=headers,
                          json={**window, "technician_id": str(booked.technician_id)})
    assert r.status_code == 409 and r.json()["type"] == "/problems/technician-already-booked", r.text
    assert r.json()["clashing_order_id"] == str(booked.id)
    assert (await session.execute(select(func.count()).select_from(Booking))).scalar_one() == before
    assert (await session.get(WorkOrder, waiting.id)).status == S.pending_dispatch
