"""The technician's work from the field, sent late: device times, and orders taken away meanwhile.

A technician without signal keeps working; his app queues the actions (start, voucher,
notes for the callback) and sends them when it reconnects, each with its Idempotency-Key and
the time it happened on the phone. That time is recorded as the device's, beside the
server's own (which the callback clock and the reports keep using: a phone's clock is not
evidence). A device time far in the future, or before the order existed, is a broken clock
or a forged one, and is refused.

An order the desk took from him while he was away (reassigned, released back, reopened,
cancelled) answers a conflict that says what happened and when, never a silent overwrite of
someone else's job; an order he never held stays a 404, as it always was.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit.model import AuditEntry
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.errors import Conflict, Invalid
from app.domain.repairs.model import WorkOrder, WorkOrderStatus

DEVICE_TIME_FIELD = "X-Device-Time"
# How far a phone's clock may run ahead of ours, or behind the order's creation, and still be believed.
CLOCK_SKEW = timedelta(minutes=5)
# The trail's actions that take an order from its technician, and how the problem names them.
TAKEN_BY = {"work_order.reassign": "reassigned", "work_order.release": "released",
            "work_order.reopen": "reopened", "work_order.dispatch": "reassigned",
            "work_order.await_confirmation": "reassigned"}


class OrderReassigned(Conflict):
    title = "The work order was taken from you meanwhile; it is no longer yours to work on"
    title_zh = "该工单在此期间已被改派或退回，不再由您处理"


class OrderCancelled(Conflict):
    title = "The work order was cancelled meanwhile"
    title_zh = "该工单在此期间已被取消"


class DeviceTimeInFuture(Invalid):
    title = "The device time lies in the future; check the phone's clock"
    title_zh = "设备时间晚于当前时间，请检查手机时钟"


class DeviceTimeBeforeOrder(Invalid):
    title = "The device time lies before the work order existed"
    title_zh = "设备时间早于工单创建时间"


def check_device_time(order: WorkOrder, device_time: datetime | None, *, now: datetime | None = None) -> None:
    """Refuse a device time no honest clock gives (within CLOCK_SKEW either way)."""
    if device_time is None:
        return
    now = now or utcnow()
    if device_time > now + CLOCK_SKEW:
        raise DeviceTimeInFuture(f"the device says {device_time.isoformat()}, the server's time is {now.isoformat()}",
                                 field=DEVICE_TIME_FIELD, server_time=now.isoformat())
    if device_time < order.created_at - CLOCK_SKEW:
        raise DeviceTimeBeforeOrder(f"the order {order.number} was created at {order.created_at.isoformat()}",
                                    field=DEVICE_TIME_FIELD, order_created_at=order.created_at.isoformat())


async def _taken_from(session: AsyncSession, *, order: WorkOrder, technician_id: uuid.UUID) -> AuditEntry | None:
    """The trail's last entry that took the order from this technician, if he ever held it."""
    me = str(technician_id)
    return (await session.execute(
        select(AuditEntry).where(AuditEntry.entity == "work_order", AuditEntry.entity_id == str(order.id),
                                 AuditEntry.action.in_(list(TAKEN_BY)), AuditEntry.before["technician_id"].astext == me,
                                 AuditEntry.after["technician_id"].astext.is_distinct_from(me))
        .order_by(AuditEntry.id.desc()).limit(1))).scalar_one_or_none()


async def refuse_lost_order(session: AsyncSession, *, order: WorkOrder, actor: Actor) -> None:
    """Raise the conflict when the actor held this order once and it was taken from him; return
    when he never held it (the caller answers 404: another's order does not exist for him).

    The problem names the order (he had it), how and when it left him, and whether another
    technician or the desk has it now, never who: that is no longer his to see."""
    if actor.id is None:
        return
    entry = await _taken_from(session, order=order, technician_id=actor.id)
    if entry is None:
        return
    how = TAKEN_BY[entry.action]
    holder = "another technician" if order.technician_id is not None else "the desk"
    raise OrderReassigned(f"the order {order.number} was {how} at {entry.at.isoformat()}; {holder} has it now",
                          order_id=str(order.id), order_number=order.number, how=how, at=entry.at.isoformat(),
                          now_with="technician" if order.technician_id is not None else "desk")


def refuse_cancelled(order: WorkOrder) -> None:
    if WorkOrderStatus(order.status) == WorkOrderStatus.cancelled:
        at = order.cancelled_at.isoformat() if order.cancelled_at else None
        raise OrderCancelled(f"the order {order.number} was cancelled at {at}: {order.cancel_reason}",
                             order_id=str(order.id), order_number=order.number, at=at, reason=order.cancel_reason)
