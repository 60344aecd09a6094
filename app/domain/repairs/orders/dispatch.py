"""Dispatching work orders: booking a technician, the reply owed to the owner, and the
technician's own verbs. Every state change goes through audit.apply."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.errors import Conflict, Invalid
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry
from app.domain.registry.model import Estate
from app.domain.repairs.model import ORDER_TRANSITIONS, ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.orders import field
from app.domain.repairs.orders.reading import load_order, load_own_order, open_promise, order_detail, promise_read
from app.domain.repairs.orders.schedule_model import Booking, ReplyPromise
from app.domain.repairs.orders.schemas import (
    AwaitConfirmationIn,
    ConfirmIn,
    DispatchIn,
    OwnerToldIn,
    ReasonIn,
    ReplyPromiseRead,
    WorkOrderDetail,
)
from app.domain.repairs.orders.technicians import check_within_hours, require_technician

EXCLUSION_VIOLATION = "23P01"


class TechnicianAlreadyBooked(Conflict):
    title = "The technician is already booked for part of this window"
    title_zh = "该维修人员在此时段内已有部分时间被预约"


class NoOpenReplyPromise(Conflict):
    title = "The order has no open reply promise"
    title_zh = "该工单没有待回复的承诺"


class ReplyNotConfirmed(Conflict):
    title = "The technician has not confirmed a time yet; there is nothing to tell the owner"
    title_zh = "维修人员尚未确认上门时间，暂无可告知业主的内容"


class ToldInTheFuture(Invalid):
    title = "The owner cannot have been told in the future"
    title_zh = "告知业主的时间不能在未来"


def _check(order: WorkOrder, action: str) -> None:
    # Ask the table before booking, so an illegal move answers 409 without touching bookings.
    ORDER_TRANSITIONS.next_state(WorkOrderStatus(order.status), action)


async def _release(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, at: datetime,
                   starting_from: datetime | None = None) -> int:
    stmt = select(Booking).where(Booking.work_order_id == order_id, Booking.active.is_(True))
    if starting_from is not None:
        stmt = stmt.where(func.lower(Booking.during) >= starting_from)
    rows = list((await session.execute(stmt.order_by(Booking.id).with_for_update()
                                       .execution_options(populate_existing=True))).scalars())
    for booking in rows:
        await audit.apply(session, actor=actor, row=booking, action="release", at=at)
    return len(rows)


async def release_bookings(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID) -> int:
    """Free the technician's time held for this order (released, cancelled, re-dispatched)."""
    return await _release(session, actor=actor, order_id=order_id, at=utcnow())


async def end_bookings(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, at: datetime) -> None:
    """The work is done: the rest of the booked window is free again, the part worked stays on record."""
    await session.execute(text(
        "UPDATE booking SET during = tstzrange(lower(during), :at, '[)') "
        "WHERE work_order_id = :order_id AND active AND lower(during) < :at AND upper(during) > :at"),
        {"order_id": order_id, "at": at})
    await _release(session, actor=actor, order_id=order_id, at=at, starting_from=at)


async def _clashing_order(session: AsyncSession, *, technician_id: uuid.UUID, during: Range[datetime]) -> uuid.UUID | None:
    return (await session.execute(
        select(Booking.work_order_id).where(Booking.technician_id == technician_id, Booking.active.is_(True),
                                            Booking.during.overlaps(during)).limit(1))).scalar_one_or_none()


async def book(session: AsyncSession, *, actor: Actor, order: WorkOrder, technician_id: uuid.UUID,
               start: datetime, end: datetime) -> Booking:
    """Hold the technician's time; PostgreSQL's exclusion constraint refuses an overlap.

    The insert runs in a savepoint so a refusal leaves the request's transaction usable.
    """
    during = Range(start, end, bounds="[)")
    booking = Booking(estate_id=order.estate_id, technician_id=technician_id, work_order_id=order.id, during=during)
    try:
        async with session.begin_nested():
            session.add(booking)
            await session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != EXCLUSION_VIOLATION:
            raise
        clash = await _clashing_order(session, technician_id=technician_id, during=during)
        raise TechnicianAlreadyBooked(field="start", technician_id=str(technician_id),
                                      clashing_order_id=str(clash) if clash else None) from None
    await audit.record(session, actor=actor, action="create", row=booking,
                       after={**audit.audit_snapshot(booking), "start": start, "end": end})
    return booking


async def _confirm_promise(session: AsyncSession, *, actor: Actor, order: WorkOrder, start: datetime, end: datetime) -> None:
    promise = await open_promise(session, order_id=order.id)
    if promise is not None:
        await audit.apply(session, actor=actor, row=promise, action="confirm", technician_id=order.technician_id,
                          start=start, end=end, at=utcnow())


async def _book_order(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: DispatchIn, action: str) -> WorkOrder:
    """Dispatch or reassign: the technician of the estate, within his hours, booked for the window
    (any earlier booking of the order freed), then the verb on the order."""
    order = await load_order(session, actor=actor, order_id=order_id, lock=True)
    _check(order, action)
    await require_technician(session, estate_id=order.estate_id, user_id=data.technician_id)
    estate = await session.get(Estate, order.estate_id)
    assert estate is not None
    await check_within_hours(session, estate=estate, technician_id=data.technician_id, start=data.start, end=data.end)
    await release_bookings(session, actor=actor, order_id=order.id)
    await book(session, actor=actor, order=order, technician_id=data.technician_id, start=data.start, end=data.end)
    await audit.apply(session, actor=actor, row=order, action=action, technician_id=data.technician_id,
                      start=data.start, end=data.end, at=utcnow())
    return order


async def dispatch(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: DispatchIn) -> WorkOrderDetail:
    order = await _book_order(session, actor=actor, order_id=order_id, data=data, action="dispatch")
    # The desk found someone free after all: that is the time to tell the owner.
    await _confirm_promise(session, actor=actor, order=order, start=data.start, end=data.end)
    return await order_detail(session, order=order)


async def reassign(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: DispatchIn) -> WorkOrderDetail:
    """Give a dispatched order to another technician (or another window): the first one's booking
    is freed, and his queued work on it is refused with order-reassigned when it arrives."""
    order = await _book_order(session, actor=actor, order_id=order_id, data=data, action="reassign")
    return await order_detail(session, order=order)


async def await_confirmation(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID,
                             data: AwaitConfirmationIn) -> WorkOrderDetail:
    order = await load_order(session, actor=actor, order_id=order_id, lock=True)
    _check(order, "await_confirmation")
    if data.technician_id is not None:
        await require_technician(session, estate_id=order.estate_id, user_id=data.technician_id)
    await release_bookings(session, actor=actor, order_id=order.id)
    await audit.apply(session, actor=actor, row=order, action="await_confirmation", technician_id=data.technician_id)
    promise = ReplyPromise(estate_id=order.estate_id, work_order_id=order.id, technician_id=data.technician_id,
                           promised_by=actor.id, due_at=utcnow() + timedelta(minutes=data.reply_within_minutes))
    session.add(promise)
    await session.flush()
    await audit.record(session, actor=actor, action="create", row=promise)
    return await order_detail(session, order=order)


async def confirm(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: ConfirmIn) -> WorkOrderDetail:
    """The technician names the time (§7.3.7). His own choice, so his office hours are not imposed."""
    order = await load_own_order(session, actor=actor, order_id=order_id)
    _check(order, "confirm")
    assert actor.id is not None  # load_own_order lets only the order's technician through
    await book(session, actor=actor, order=order, technician_id=actor.id, start=data.start, end=data.end)
    await audit.apply(session, actor=actor, row=order, action="confirm", start=data.start, end=data.end, at=utcnow())
    await _confirm_promise(session, actor=actor, order=order, start=data.start, end=data.end)
    return await order_detail(session, order=order)


async def owner_told(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: OwnerToldIn) -> WorkOrderDetail:
    order = await load_order(session, actor=actor, order_id=order_id, lock=True)
    promise = await open_promise(session, order_id=order.id)
    if promise is None:
        raise NoOpenReplyPromise(current_state=order.status)
    if promise.confirmed_start is None:
        raise ReplyNotConfirmed(current_state=order.status)
    now = utcnow()
    told_at = data.told_at or now
    if told_at > now + timedelta(minutes=1):
        raise ToldInTheFuture(field="told_at")
    await audit.apply(session, actor=actor, row=promise, action="tell_owner", by=actor.id, told_at=told_at, at=now)
    return await order_detail(session, order=order)


async def accept(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID) -> WorkOrderDetail:
    order = await load_own_order(session, actor=actor, order_id=order_id)
    await audit.apply(session, actor=actor, row=order, action="accept", at=utcnow())
    return await order_detail(session, order=order)


async def start(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID,
                device_time: datetime | None = None) -> WorkOrderDetail:
    """He is at the job; `device_time`: when his phone says so, for a start queued offline."""
    order = await load_own_order(session, actor=actor, order_id=order_id)
    now = utcnow()
    field.check_device_time(order, device_time, now=now)
    await audit.apply(session, actor=actor, row=order, action="start", at=now, on_device_at=device_time)
    return await order_detail(session, order=order)


async def release(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: ReasonIn) -> WorkOrderDetail:
    """The technician cannot come: the order goes back to the desk and his time is freed."""
    order = await load_own_order(session, actor=actor, order_id=order_id)
    await audit.apply(session, actor=actor, row=order, action="release", reason=data.reason)
    await release_bookings(session, actor=actor, order_id=order.id)
    return await order_detail(session, order=order)


async def cancel(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: ReasonIn) -> WorkOrderDetail:
    order = await load_order(session, actor=actor, order_id=order_id, lock=True)
    now = utcnow()
    await audit.apply(session, actor=actor, row=order, action="cancel", reason=data.reason, at=now)
    await release_bookings(session, actor=actor, order_id=order.id)
    request = await session.get(ServiceRequest, order.request_id)
    assert request is not None
    await audit.apply(session, actor=actor, row=request, action="cancel", reason=data.reason, at=now)
    promise = await open_promise(session, order_id=order.id)
    if promise is not None:
        await audit.apply(session, actor=actor, row=promise, action="withdraw", reason=data.reason, at=now)
    return await order_detail(session, order=order)


class ReplyPromiseSort(StrEnum):
    """The keys reply promises sort by."""

    due_at = "due_at"
    created_at = "created_at"


async def list_promises(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
                        state: str = "open") -> tuple[list[ReplyPromiseRead], int]:
    """Open promises, most urgent first; `overdue` narrows to those past their deadline."""
    await registry.check_estate(session, actor=actor, estate_id=estate_id)
    now = utcnow()
    stmt = select(ReplyPromise).where(ReplyPromise.estate_id == estate_id)
    if state in ("open", "overdue"):
        stmt = stmt.where(ReplyPromise.closed_at.is_(None))
    if state == "overdue":
        stmt = stmt.where(ReplyPromise.due_at < now)
    sortable = {ReplyPromiseSort.due_at: ReplyPromise.due_at, ReplyPromiseSort.created_at: ReplyPromise.created_at}
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[ReplyPromise.due_at, ReplyPromise.id])
    contacts = await _contacts(session, [p.work_order_id for p in rows])
    return [promise_read(p, now=now, **contacts.get(p.work_order_id, {})) for p in rows], total


async def _contacts(session: AsyncSession, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, str]]:
    """Whom to ring back, so the desk's list needs no second look-up."""
    if not order_ids:
        return {}
    rows = (await session.execute(
        select(WorkOrder.id, ServiceRequest.contact_name, ServiceRequest.contact_phone)
        .join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id).where(WorkOrder.id.in_(order_ids)))).all()
    return {oid: {"contact_name": name, "contact_phone": phone} for oid, name, phone in rows}
