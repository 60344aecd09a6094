"""Technicians of an estate: their working hours and who is free when (§7.3.7)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import any_, select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import by_id_in_estate, snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Invalid, NotFound
from app.domain.registry import service as registry
from app.domain.registry.model import Building, Estate
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.schedule_model import Booking, TechnicianHours
from app.domain.repairs.orders.schemas import (
    AvailabilityRead,
    BookingRead,
    TechnicianAvailability,
    Whereabouts,
    WorkingHours,
    WorkingHoursRead,
)


class TechnicianNotFound(NotFound):
    title = "No such technician in this estate"
    title_zh = "本小区没有这名维修人员"


class NotATechnicianOfEstate(Invalid):
    title = "The chosen person is not a technician of this estate"
    title_zh = "所选人员不是本小区的维修人员"


class OutsideWorkingHours(Invalid):
    title = "The window lies outside the technician's working hours"
    title_zh = "该时段不在维修人员的工作时间内"


class WindowOutOfOrder(Invalid):
    title = "The window's end must come after its start"
    title_zh = "时段的结束时间必须晚于开始时间"


@dataclass(frozen=True)
class Hours:
    morning_open: time
    morning_close: time
    afternoon_open: time
    afternoon_close: time

    def covers(self, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
        """[start, end) lies inside the morning or the afternoon of one local day."""
        s, e = start.astimezone(tz), end.astimezone(tz)
        if s.date() != e.date():
            return False
        periods = [(self.morning_open, self.morning_close), (self.afternoon_open, self.afternoon_close)]
        return any(o <= s.time() and e.time() <= c for o, c in periods)


def booking_read(b: Booking) -> BookingRead:
    return BookingRead(id=b.id, technician_id=b.technician_id, work_order_id=b.work_order_id,
                       start=b.during.lower, end=b.during.upper, active=b.active)


async def technician_of_estate(session: AsyncSession, *, estate_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
    """The user when he is an active technician assigned to the estate, else None."""
    row = (await session.execute(
        select(User).join(UserEstate, UserEstate.user_id == User.id)
        .where(User.id == user_id, UserEstate.estate_id == estate_id, User.is_active.is_(True),
               any_(User.roles) == Role.technician.value)
    )).scalar_one_or_none()
    return row


async def require_technician(session: AsyncSession, *, estate_id: uuid.UUID, user_id: uuid.UUID) -> User:
    tech = await technician_of_estate(session, estate_id=estate_id, user_id=user_id)
    if tech is None:
        raise NotATechnicianOfEstate(field="technician_id", technician_id=str(user_id))
    return tech


async def hours_of(session: AsyncSession, *, estate: Estate, technician_id: uuid.UUID) -> tuple[Hours, bool]:
    """His own hours in the estate, or the estate's office hours (True: the default)."""
    own = (await session.execute(select(TechnicianHours).where(
        TechnicianHours.estate_id == estate.id, TechnicianHours.technician_id == technician_id))).scalar_one_or_none()
    src = own or estate
    return Hours(src.morning_open, src.morning_close, src.afternoon_open, src.afternoon_close), own is None


async def check_within_hours(session: AsyncSession, *, estate: Estate, technician_id: uuid.UUID,
                             start: datetime, end: datetime) -> None:
    hours, _ = await hours_of(session, estate=estate, technician_id=technician_id)
    if not hours.covers(start, end, estate_time.estate_zone(estate)):
        raise OutsideWorkingHours(
            f"working hours are {hours.morning_open:%H:%M}-{hours.morning_close:%H:%M} and "
            f"{hours.afternoon_open:%H:%M}-{hours.afternoon_close:%H:%M} ({estate.time_zone})", field="start")


# --- working hours -------------------------------------------------------------------------

async def _estate_and_technician(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, user_id: uuid.UUID) -> Estate:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    if await technician_of_estate(session, estate_id=estate_id, user_id=user_id) is None:
        raise TechnicianNotFound()
    return estate


async def get_hours(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, user_id: uuid.UUID) -> WorkingHoursRead:
    estate = await _estate_and_technician(session, actor=actor, estate_id=estate_id, user_id=user_id)
    hours, default = await hours_of(session, estate=estate, technician_id=user_id)
    own = (await session.execute(select(TechnicianHours.version).where(
        TechnicianHours.estate_id == estate_id, TechnicianHours.technician_id == user_id))).scalar_one_or_none()
    return WorkingHoursRead(technician_id=user_id, estate_id=estate_id, is_estate_default=default, version=own or 0, **hours.__dict__)


async def set_hours(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, user_id: uuid.UUID,
                    data: WorkingHours, expected_version: int | None = None) -> WorkingHoursRead:
    await _estate_and_technician(session, actor=actor, estate_id=estate_id, user_id=user_id)
    row = await versions.load_for_edit(session, select(TechnicianHours).where(
        TechnicianHours.estate_id == estate_id, TechnicianHours.technician_id == user_id),
        record=versions.key("technician_hours", estate_id, user_id), expected_version=expected_version)
    before = snapshot(row) if row else None
    if row is None:
        row = TechnicianHours(estate_id=estate_id, technician_id=user_id, **data.model_dump())
        session.add(row)
    else:
        for key, value in data.model_dump().items():
            setattr(row, key, value)
        row.updated_at = utcnow()
    await session.flush()
    await audit.record(session, actor=actor, action="update" if before else "create", entity="technician_hours",
                       entity_id=row.id, estate_id=estate_id, before=before, after=snapshot(row))
    return WorkingHoursRead(technician_id=user_id, estate_id=estate_id, is_estate_default=False, version=row.version,
                            **data.model_dump())


# --- availability --------------------------------------------------------------------------

async def _technicians(session: AsyncSession, estate_id: uuid.UUID) -> list[User]:
    return list((await session.execute(
        select(User).join(UserEstate, UserEstate.user_id == User.id)
        .where(UserEstate.estate_id == estate_id, User.is_active.is_(True), any_(User.roles) == Role.technician.value)
        .order_by(User.full_name, User.id)
    )).scalars())


async def _whereabouts(session: AsyncSession, *, estate_id: uuid.UUID, now: datetime) -> dict[uuid.UUID, Whereabouts]:
    """Per technician: the order he is on now (in progress, else a booking covering now)."""
    # The orders as a union of two indexed reads, and the location read per order: written as
    # "in progress OR booked now", the planner expected half the estate's orders and hashed
    # every service request of the company to read one column.
    covering = select(Booking.work_order_id).where(Booking.estate_id == estate_id, Booking.active.is_(True),
                                                   Booking.during.contains(now))
    on_it = select(WorkOrder.id).where(WorkOrder.estate_id == estate_id, WorkOrder.status == WorkOrderStatus.in_progress)
    location = select(ServiceRequest.location).where(ServiceRequest.id == WorkOrder.request_id).scalar_subquery()
    rows = (await session.execute(
        select(WorkOrder, Building, location)
        .outerjoin(Building, by_id_in_estate(Building, WorkOrder.building_id, estate_id))
        .where(WorkOrder.id.in_(on_it.union(covering)), WorkOrder.estate_id == estate_id,
               WorkOrder.technician_id.is_not(None))
        .order_by((WorkOrder.status == WorkOrderStatus.in_progress).desc(), WorkOrder.started_at.desc().nulls_last())
    )).all()
    out: dict[uuid.UUID, Whereabouts] = {}
    for order, building, location in rows:
        out.setdefault(order.technician_id, Whereabouts(
            work_order_id=order.id, building_id=building.id if building else None,
            building_name=building.name if building else None, location=location))
    return out


async def _own_hours(session: AsyncSession, *, estate_id: uuid.UUID, ids: list[uuid.UUID]) -> dict[uuid.UUID, TechnicianHours]:
    """The technicians' own hours in one query (hours_of per technician was one round trip each)."""
    rows = await session.execute(select(TechnicianHours).where(
        TechnicianHours.estate_id == estate_id, TechnicianHours.technician_id.in_(ids)))
    return {h.technician_id: h for h in rows.scalars()}


async def availability(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID,
                       start: datetime, end: datetime) -> AvailabilityRead:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    if not start < end:
        raise WindowOutOfOrder(field="end")
    tz, now = estate_time.estate_zone(estate), utcnow()
    techs = await _technicians(session, estate_id)
    ids = [t.id for t in techs]
    active = select(Booking).where(Booking.technician_id.in_(ids), Booking.active.is_(True))
    clashes = (await session.execute(active.where(Booking.during.overlaps(Range(start, end))))).scalars().all()
    # Only each technician's next booking, not every future one: they pile up as the desk books ahead.
    upcoming = {b.technician_id: b for b in (await session.execute(
        active.where(Booking.during.strictly_right_of(Range(now, now, bounds="[]")))
        .distinct(Booking.technician_id).order_by(Booking.technician_id, Booking.during))).scalars()}
    own_hours = await _own_hours(session, estate_id=estate_id, ids=ids)
    where = await _whereabouts(session, estate_id=estate_id, now=now)
    result = []
    for tech in techs:
        src = own_hours.get(tech.id, estate)
        hours = Hours(src.morning_open, src.morning_close, src.afternoon_open, src.afternoon_close)
        clashing = [b.work_order_id for b in clashes if b.technician_id == tech.id]
        in_hours = hours.covers(start, end, tz)
        reason = None if in_hours and not clashing else ("booked" if clashing else "outside_hours")
        nxt = upcoming.get(tech.id)
        result.append(TechnicianAvailability(
            technician_id=tech.id, full_name=tech.full_name, phone=tech.phone, free=reason is None, reason=reason,
            clashing_order_ids=clashing, now_at=where.get(tech.id), next_booking=booking_read(nxt) if nxt else None))
    result.sort(key=lambda a: not a.free)  # stable: free first, then by name
    return AvailabilityRead(start=start, end=end, technicians=result)
