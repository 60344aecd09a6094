"""Every (state, action) pair of the work-order table: legal ones move, the rest raise IllegalTransition."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.errors import IllegalTransition
from app.domain.repairs.model import ORDER_TRANSITIONS, ScheduleOutOfOrder, WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.technicians import Hours

S = WorkOrderStatus
ACTIONS = sorted({action for (_, action) in ORDER_TRANSITIONS.table})
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
TECH = uuid.uuid4()


def kwargs_for(action: str) -> dict:
    return {
        "dispatch": {"technician_id": TECH, "start": NOW, "end": NOW + timedelta(hours=1), "at": NOW},
        "reassign": {"technician_id": uuid.uuid4(), "start": NOW, "end": NOW + timedelta(hours=1), "at": NOW},
        "await_confirmation": {"technician_id": TECH},
        "confirm": {"start": NOW, "end": NOW + timedelta(hours=1), "at": NOW},
        "release": {"reason": "病假"}, "reopen": {"reason": "仍漏水"}, "return_to_desk": {"reason": "缺憑證"},
        "cancel": {"reason": "業主取消", "at": NOW}, "approve": {"by": None, "at": NOW},
    }.get(action, {"at": NOW})


def order_in(state: WorkOrderStatus) -> WorkOrder:
    return WorkOrder(estate_id=uuid.uuid4(), request_id=uuid.uuid4(), category="plumbing", status=state, technician_id=TECH)


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_state_and_action(state: WorkOrderStatus, action: str) -> None:
    order = order_in(state)
    target = ORDER_TRANSITIONS.table.get((state, action))
    if target is None:
        with pytest.raises(IllegalTransition) as exc:
            getattr(order, action)(**kwargs_for(action))
        assert exc.value.extra["current_state"] == state.value
        assert order.status == state
    else:
        getattr(order, action)(**kwargs_for(action))
        assert order.status == target


def test_allowed_actions_match_the_table() -> None:
    assert order_in(S.dispatched).allowed_actions() == ["accept", "cancel", "reassign", "release", "start"]
    assert order_in(S.archived).allowed_actions() == []


def test_reassign_gives_the_order_to_another_and_asks_him_to_accept() -> None:
    order, other = order_in(S.dispatched), uuid.uuid4()
    order.reassign(technician_id=other, start=NOW, end=NOW + timedelta(hours=1), at=NOW)
    assert (order.status, order.technician_id, order.accepted_at, order.dispatched_at) == (S.dispatched, other, None, NOW)
    with pytest.raises(ScheduleOutOfOrder):
        order.reassign(technician_id=other, start=NOW, end=NOW, at=NOW)


def test_device_times_sit_beside_the_servers_and_go_with_a_reopen() -> None:
    order, phone = order_in(S.dispatched), NOW - timedelta(hours=3)
    order.start(at=NOW, on_device_at=phone)
    order.complete(at=NOW, on_device_at=phone + timedelta(hours=1))
    assert (order.started_at, order.started_on_device_at, order.completed_on_device_at) == (NOW, phone, phone + timedelta(hours=1))
    order.reopen(reason="仍漏水")
    assert order.started_on_device_at is None and order.completed_on_device_at is None


def test_dispatch_refuses_a_backwards_window() -> None:
    order = order_in(S.pending_dispatch)
    with pytest.raises(ScheduleOutOfOrder):
        order.dispatch(technician_id=TECH, start=NOW, end=NOW, at=NOW)
    assert order.status == S.pending_dispatch


def test_release_frees_the_order_for_the_desk() -> None:
    order = order_in(S.dispatched)
    order.release(reason="車壞了")
    assert (order.status, order.technician_id, order.last_reason) == (S.pending_dispatch, None, "車壞了")


class TestWorkingHours:
    hours = Hours(time(8), time(12), time(14), time(18))
    tz = ZoneInfo("Asia/Shanghai")

    def local(self, h: int, m: int = 0, day: int = 3) -> datetime:
        return datetime(2025, 3, day, h, m, tzinfo=self.tz)

    def test_inside_morning_and_afternoon(self) -> None:
        assert self.hours.covers(self.local(8), self.local(12), self.tz)
        assert self.hours.covers(self.local(14), self.local(15, 30), self.tz)

    def test_over_lunch_before_opening_or_across_days_is_refused(self) -> None:
        assert not self.hours.covers(self.local(11), self.local(14, 30), self.tz)
        assert not self.hours.covers(self.local(7, 30), self.local(9), self.tz)
        assert not self.hours.covers(self.local(17), self.local(9, day=4), self.tz)

    def test_the_estate_time_zone_decides_not_utc(self) -> None:
        # 01:00 UTC is 09:00 in Shanghai.
        start = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
        assert self.hours.covers(start, start + timedelta(hours=1), self.tz)
        assert not self.hours.covers(start, start + timedelta(hours=1), ZoneInfo("Europe/London"))
