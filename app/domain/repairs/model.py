"""Service requests (服務登記) and work orders (維修任務單): the heart of the front desk.

A request is what the owner (or a patrol) reported; a work order is the job that answers a
repair request. The order's life is one transition table; every verb is a method here, and
`app.domain.audit.service.apply` is the one audited way to call them.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, DateTime, Index, String, UniqueConstraint
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Conflict, Invalid
from app.domain.events.model import EventType
from app.domain.transitions import TransitionTable


class RequestChannel(StrEnum):
    phone = "phone"
    walk_in = "walk_in"
    manager_patrol = "manager_patrol"
    technician_patrol = "technician_patrol"  # §7.3.11: the relaying staff member is the reporter


class Urgency(StrEnum):
    normal = "normal"
    urgent = "urgent"
    emergency = "emergency"


class RequestKind(StrEnum):
    repair = "repair"
    enquiry = "enquiry"  # a question or a fee query: closed at the desk with a note


class RequestStatus(StrEnum):
    open = "open"  # registered, no order yet (or an enquiry not yet answered)
    ordered = "ordered"  # a work order answers it
    closed_at_desk = "closed_at_desk"
    cancelled = "cancelled"


R = RequestStatus
REQUEST_TRANSITIONS: TransitionTable[RequestStatus] = TransitionTable("service_request", {
    (R.open, "order"): R.ordered,  # a repair: its work order is opened with it
    (R.open, "close_at_desk"): R.closed_at_desk,  # an enquiry answered
    (R.ordered, "close_at_desk"): R.closed_at_desk,  # withdrawn before its order left the desk
    (R.ordered, "cancel"): R.cancelled,  # its work order was cancelled
})


class ServiceRequest(EstateScoped, table=True):
    __tablename__ = "service_request"
    __table_args__ = (
        Index("ix_service_request_estate_created", "estate_id", "created_at"),
        CheckConstraint("window_end IS NULL OR window_start < window_end", name="window_in_order"),
        UniqueConstraint("estate_id", "number"),
    )

    number: str = Field(max_length=64)  # QS-BX-2026-000045, see app.domain.repairs.numbers
    kind: RequestKind = Field(default=RequestKind.repair, sa_type=String(20))
    channel: RequestChannel = Field(sa_type=String(20))
    urgency: Urgency = Field(default=Urgency.normal, sa_type=String(20))
    category: str = Field(max_length=40)  # a code of the estate's repair categories
    description: str = Field(max_length=4000)
    unit_id: uuid.UUID | None = Field(default=None, foreign_key="unit.id", index=True)
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="owner.id", index=True)
    is_public_area: bool = False
    location: str = Field(default="", max_length=200)  # "3号楼电梯厅" when no unit
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=20)  # normalised digits
    window_start: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    window_end: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    reporter_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)
    registered_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    status: RequestStatus = Field(default=RequestStatus.open, sa_type=String(20), index=True)
    closed_note: str = Field(default="", max_length=2000)
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    transitions: ClassVar[TransitionTable[RequestStatus]] = REQUEST_TRANSITIONS
    # The trail's names, as the desk's and the dispatch services first wrote them.
    audit_actions: ClassVar[dict[str, str]] = {"close_at_desk": "close", "cancel": "cancel"}

    def _move(self, action: str) -> None:
        self.status = REQUEST_TRANSITIONS.next_state(RequestStatus(self.status), action)

    def order(self) -> None:
        self._move("order")

    def close_at_desk(self, *, note: str, at: datetime) -> None:
        self._move("close_at_desk")
        self.closed_note, self.closed_at = note, at

    def cancel(self, *, reason: str, at: datetime) -> None:
        self._move("cancel")
        self.closed_note, self.closed_at = reason, at


class WorkOrderStatus(StrEnum):
    pending_dispatch = "pending_dispatch"
    awaiting_technician_confirmation = "awaiting_technician_confirmation"  # §7.3.7
    dispatched = "dispatched"
    in_progress = "in_progress"
    completed = "completed"
    callback_done = "callback_done"
    approved = "approved"
    archived = "archived"
    cancelled = "cancelled"
    reopened = "reopened"


S = WorkOrderStatus
ORDER_TRANSITIONS: TransitionTable[WorkOrderStatus] = TransitionTable("work_order", {
    (S.pending_dispatch, "dispatch"): S.dispatched,
    (S.pending_dispatch, "await_confirmation"): S.awaiting_technician_confirmation,
    (S.pending_dispatch, "cancel"): S.cancelled,
    # The technician names the time, or the desk finds someone else who is free.
    (S.awaiting_technician_confirmation, "confirm"): S.dispatched,
    (S.awaiting_technician_confirmation, "dispatch"): S.dispatched,
    (S.awaiting_technician_confirmation, "cancel"): S.cancelled,
    (S.dispatched, "accept"): S.dispatched,
    (S.dispatched, "start"): S.in_progress,
    (S.dispatched, "release"): S.pending_dispatch,  # the technician cannot come: back to the desk
    (S.dispatched, "reassign"): S.dispatched,  # the desk gives it to another technician before work starts
    (S.dispatched, "cancel"): S.cancelled,
    (S.in_progress, "complete"): S.completed,
    (S.completed, "close_callback"): S.callback_done,
    (S.completed, "reopen"): S.reopened,  # the callback found a problem
    (S.callback_done, "approve"): S.approved,
    (S.callback_done, "return_to_desk"): S.completed,  # Monday: the supervisor returns the line
    (S.approved, "archive"): S.archived,  # month end: the voucher is handed over
    (S.reopened, "dispatch"): S.dispatched,
    (S.reopened, "await_confirmation"): S.awaiting_technician_confirmation,
    (S.reopened, "cancel"): S.cancelled,
})
OPEN_ORDER_STATES = frozenset({S.pending_dispatch, S.awaiting_technician_confirmation, S.dispatched, S.in_progress, S.reopened})


class CancelNeedsReason(Invalid):
    title = "A cancellation needs a reason"
    title_zh = "取消须注明原因"


class ReasonRequired(Invalid):
    title = "This change needs a reason"
    title_zh = "此项变更须注明原因"


class ScheduleOutOfOrder(Invalid):
    title = "The scheduled end must come after its start"
    title_zh = "预约结束时间必须晚于开始时间"


class OrderHasNoTechnician(Conflict):
    title = "The work order has no technician"
    title_zh = "该工单尚未指派维修人员"


class WorkOrder(EstateScoped, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        Index("ix_work_order_estate_status", "estate_id", "status"),
        Index("ix_work_order_estate_completed", "estate_id", "completed_at"),
        # The order list's default page (newest first) reads the newest orders in index order.
        Index("ix_work_order_estate_created", "estate_id", "created_at"),
        CheckConstraint("scheduled_end IS NULL OR scheduled_start < scheduled_end", name="schedule_in_order"),
        UniqueConstraint("estate_id", "number"),
    )

    number: str = Field(max_length=64)  # QS-WX-2026-000123, see app.domain.repairs.numbers
    request_id: uuid.UUID = Field(foreign_key="service_request.id", unique=True)
    status: WorkOrderStatus = Field(default=S.pending_dispatch, sa_type=String(40))
    # Copied from the request so the reports and the technician's list need no join.
    category: str = Field(max_length=40)
    unit_id: uuid.UUID | None = Field(default=None, foreign_key="unit.id", index=True)
    building_id: uuid.UUID | None = Field(default=None, foreign_key="building.id", index=True)
    is_public_area: bool = False
    technician_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)
    scheduled_start: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    scheduled_end: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    dispatched_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    accepted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    started_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    completed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # When the technician's phone says he started and finished, as the device recorded it
    # (an action queued offline reaches us later): beside the server's times above, which
    # the callback clock and the reports keep using.
    started_on_device_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    completed_on_device_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    callback_done_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    approved_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    approved_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    archived_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancelled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancel_reason: str = Field(default="", max_length=500)
    reopen_count: int = 0
    last_reason: str = Field(default="", max_length=500)  # why it was last reopened, released or returned

    transitions: ClassVar[TransitionTable[WorkOrderStatus]] = ORDER_TRANSITIONS
    # The verbs integrations and the desk's screens hear about.
    verb_events: ClassVar[dict[str, EventType]] = {
        "dispatch": EventType.order_dispatched, "reassign": EventType.order_dispatched,
        "confirm": EventType.order_time_confirmed, "complete": EventType.order_completed}

    def event_data(self, action: str) -> dict[str, Any]:
        return {"number": self.number, "request_id": self.request_id, "unit_id": self.unit_id, "status": self.status,
                "technician_id": self.technician_id, "start": self.scheduled_start,
                "end": self.scheduled_end, "completed_at": self.completed_at}

    # --- the verbs -----------------------------------------------------------------------

    def _move(self, action: str) -> None:
        self.status = ORDER_TRANSITIONS.next_state(WorkOrderStatus(self.status), action)

    def allowed_actions(self) -> list[str]:
        return ORDER_TRANSITIONS.allowed_actions(WorkOrderStatus(self.status))

    def dispatch(self, *, technician_id: uuid.UUID, start: datetime, end: datetime, at: datetime) -> None:
        if not start < end:
            raise ScheduleOutOfOrder(field="end")
        self._move("dispatch")
        self.technician_id, self.scheduled_start, self.scheduled_end = technician_id, start, end
        self.dispatched_at, self.accepted_at = at, None

    def reassign(self, *, technician_id: uuid.UUID, start: datetime, end: datetime, at: datetime) -> None:
        """Another technician takes the dispatched order (the first is ill, or needed elsewhere)."""
        if not start < end:
            raise ScheduleOutOfOrder(field="end")
        self._move("reassign")
        self.technician_id, self.scheduled_start, self.scheduled_end = technician_id, start, end
        self.dispatched_at, self.accepted_at = at, None

    def await_confirmation(self, *, technician_id: uuid.UUID | None) -> None:
        self._move("await_confirmation")
        self.technician_id, self.scheduled_start, self.scheduled_end = technician_id, None, None

    def confirm(self, *, start: datetime, end: datetime, at: datetime) -> None:
        """The technician names the time (§7.3.7); accepting is implied."""
        if self.technician_id is None:
            raise OrderHasNoTechnician()
        if not start < end:
            raise ScheduleOutOfOrder(field="end")
        self._move("confirm")
        self.scheduled_start, self.scheduled_end = start, end
        self.dispatched_at = self.accepted_at = at

    def accept(self, *, at: datetime) -> None:
        self._move("accept")
        self.accepted_at = at

    def start(self, *, at: datetime, on_device_at: datetime | None = None) -> None:
        self._move("start")
        self.started_at, self.started_on_device_at = at, on_device_at

    def release(self, *, reason: str) -> None:
        self._require_reason(reason)
        self._move("release")
        self.technician_id = self.scheduled_start = self.scheduled_end = None
        self.dispatched_at = self.accepted_at = None
        self.last_reason = reason

    def complete(self, *, at: datetime, on_device_at: datetime | None = None) -> None:
        self._move("complete")
        self.completed_at, self.completed_on_device_at = at, on_device_at

    def close_callback(self, *, at: datetime) -> None:
        self._move("close_callback")
        self.callback_done_at = at

    def reopen(self, *, reason: str) -> None:
        self._require_reason(reason)
        self._move("reopen")
        self.reopen_count += 1
        self.last_reason = reason
        self.technician_id = self.scheduled_start = self.scheduled_end = None
        self.dispatched_at = self.accepted_at = self.started_at = self.completed_at = None
        self.started_on_device_at = self.completed_on_device_at = None

    def approve(self, *, by: uuid.UUID | None, at: datetime) -> None:
        self._move("approve")
        self.approved_at, self.approved_by = at, by

    def return_to_desk(self, *, reason: str) -> None:
        self._require_reason(reason)
        self._move("return_to_desk")
        self.callback_done_at = None
        self.last_reason = reason

    def archive(self, *, at: datetime) -> None:
        self._move("archive")
        self.archived_at = at

    def cancel(self, *, reason: str, at: datetime) -> None:
        if not reason.strip():
            raise CancelNeedsReason(field="reason")
        self._move("cancel")
        self.cancelled_at, self.cancel_reason = at, reason

    @staticmethod
    def _require_reason(reason: str) -> None:
        if not reason.strip():
            raise ReasonRequired(field="reason")
