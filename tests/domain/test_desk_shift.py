"""Pure rules of a shift's log book: its transition table, the hand-over, taking over, follow-ups (no database)."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from app.domain.desk.model import (
    NEXT_SHIFT,
    SHIFT_TRANSITIONS,
    FollowUpAlreadyHandled,
    FollowUpsUnhandled,
    NoFollowUpNeeded,
    ShiftHandover,
    ShiftKind,
    ShiftStatus,
    TakeOverFromYourself,
)
from app.domain.desk.schemas import AcceptCreate, FollowUpCreate, LinkRef, VisitorCreate
from app.domain.errors import IllegalTransition

AT = datetime(2026, 11, 24, 0, 5, tzinfo=UTC)
NIGHT, DESK, TECH = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def shift(kind: ShiftKind = ShiftKind.night) -> ShiftHandover:
    return ShiftHandover(id=uuid.uuid4(), estate_id=uuid.uuid4(), shift_date=date(2026, 11, 23), shift=kind, opened_by=NIGHT)


def logged(s: ShiftHandover, *, follow_up: bool):
    entry = s.log_entry(occurred_at=AT, place="车库", what="冒水", action_taken="", needs_follow_up=follow_up, by=NIGHT)
    entry.id = uuid.uuid4()
    return entry


class TestTable:
    def test_the_only_moves(self):
        assert SHIFT_TRANSITIONS.allowed_actions(ShiftStatus.open) == ["hand_over", "log_entry"]
        assert SHIFT_TRANSITIONS.allowed_actions(ShiftStatus.handed_over) == ["accept", "dispose_follow_up"]
        assert SHIFT_TRANSITIONS.allowed_actions(ShiftStatus.accepted) == []

    def test_every_shift_change_has_a_default_successor(self):
        assert {ShiftKind.night: ShiftKind.morning, ShiftKind.morning: ShiftKind.afternoon,
                              ShiftKind.afternoon: ShiftKind.night} == NEXT_SHIFT


class TestLifecycle:
    def test_open_hand_over_accept(self):
        s = shift()
        entry = logged(s, follow_up=True)
        s.hand_over(by=NIGHT, at=AT, note="", next_shift=None)
        assert (s.status, s.next_shift, s.handed_over_by) == (ShiftStatus.handed_over, ShiftKind.morning, NIGHT)
        with pytest.raises(IllegalTransition):
            logged(s, follow_up=False)
        s.check_can_dispose()
        entry.assign(assignee_id=TECH, note="上午去看", by=DESK, at=AT)
        s.accept(by=DESK, at=AT, note="", entries=[entry])
        assert (s.status, s.accepted_by, s.accepted_at) == (ShiftStatus.accepted, DESK, AT)

    def test_unhandled_items_are_named(self):
        s = shift()
        open_item, quiet = logged(s, follow_up=True), logged(s, follow_up=False)
        s.hand_over(by=NIGHT, at=AT, note="", next_shift=ShiftKind.afternoon)
        with pytest.raises(FollowUpsUnhandled) as err:
            s.accept(by=DESK, at=AT, note="", entries=[open_item, quiet])
        assert err.value.extra["unhandled"] == [{"entry_id": str(open_item.id), "what": "冒水"}]
        assert s.status == ShiftStatus.handed_over and s.next_shift == ShiftKind.afternoon

    def test_no_taking_over_from_yourself(self):
        s = shift()
        s.hand_over(by=NIGHT, at=AT, note="", next_shift=None)
        with pytest.raises(TakeOverFromYourself):
            s.accept(by=NIGHT, at=AT, note="", entries=[])

    @pytest.mark.parametrize("status", [ShiftStatus.open, ShiftStatus.accepted])
    def test_accept_only_when_handed_over(self, status: ShiftStatus):
        s = shift()
        s.status = status
        with pytest.raises(IllegalTransition):
            s.accept(by=DESK, at=AT, note="", entries=[])
        if status is ShiftStatus.open:
            return
        with pytest.raises(IllegalTransition):
            s.hand_over(by=NIGHT, at=AT, note="", next_shift=None)
        with pytest.raises(IllegalTransition):
            s.check_can_dispose()


class TestFollowUp:
    def test_once_and_only_when_needed(self):
        s = shift()
        item, quiet = logged(s, follow_up=True), logged(s, follow_up=False)
        assert item.is_unhandled and not quiet.is_unhandled
        item.convert(request_id=uuid.uuid4(), note="", by=DESK, at=AT)
        assert not item.is_unhandled
        with pytest.raises(FollowUpAlreadyHandled):
            item.assign(assignee_id=TECH, note="", by=DESK, at=AT)
        with pytest.raises(NoFollowUpNeeded):
            quiet.assign(assignee_id=TECH, note="", by=DESK, at=AT)


class TestSchemas:
    def test_exactly_one_disposition(self):
        with pytest.raises(ValueError):
            FollowUpCreate()
        with pytest.raises(ValueError):
            FollowUpCreate(assign_to=TECH, request={"channel": "phone", "description": "x", "location": "y"})
        assert FollowUpCreate(assign_to=TECH).request is None

    def test_no_entry_twice_no_link_twice(self):
        with pytest.raises(ValueError):
            AcceptCreate(follow_ups=[{"entry_id": str(TECH), "assign_to": str(DESK)}] * 2)
        link = LinkRef(kind="payment", id=TECH)
        with pytest.raises(ValueError):
            VisitorCreate(visitor_name="王", purpose="x", links=[link, link])
