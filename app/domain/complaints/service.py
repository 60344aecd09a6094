"""The complaint record book (業主投訴記錄本) and its disposition form (業主投訴處置單)."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.base import by_id_in_estate, utcnow
from app.domain.calendar import estate_time
from app.domain.complaints import settings
from app.domain.complaints.model import (
    OPEN_STATES,
    Category,
    Complaint,
    ComplaintStatus,
    ComplaintStep,
    Severity,
    deadline_for,
)
from app.domain.complaints.schemas import (
    AssignCreate,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintRead,
    FeedbackCreate,
    ReasonCreate,
    ResolveCreate,
    StepCreate,
    StepRead,
)
from app.domain.errors import Invalid, NotFound
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.fees.payments.model import next_seq
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.model import Building, Estate, Owner, Unit
from app.domain.registry.names import unit_label
from app.domain.registry.service import check_estate
from app.domain.repairs.model import ServiceRequest
from app.domain.visibility import Visible, load_visible

# A clock a few minutes fast on a phone must not refuse "now".
CLOCK_SLACK = timedelta(minutes=5)
# How far back a complaint (a letter found late) may be registered.
BACKDATE_LIMIT = timedelta(days=90)


class ComplaintNotFound(NotFound):
    title = "Complaint not found"
    title_zh = "未找到该投诉"


COMPLAINT = Visible(model=Complaint, missing=ComplaintNotFound)


class ComplaintRefNotInEstate(Invalid):
    title = "The owner, unit or service request named is not one of this estate's"
    title_zh = "所填的业主、房号或报修单不属于本小区"


class HandlerNotInEstate(Invalid):
    title = "The staff member named is not an active user of this estate"
    title_zh = "所填的员工不是本小区的在职用户"


class ComplaintTimeOutOfRange(Invalid):
    title = "The time given is in the future or before the complaint was received"
    title_zh = "所填时间在未来，或早于投诉受理时间"


# --- reading ---------------------------------------------------------------------------

async def to_reads(session: AsyncSession, complaints: Sequence[Complaint], *, now: datetime) -> list[ComplaintRead]:
    """Complaints with the owner's and handler's names and the unit's label, in one query."""
    if not complaints:
        return []
    estates = {c.estate_id for c in complaints}
    stmt = (
        select(Complaint.id, Owner.full_name, User.full_name.label("handler_name"), Unit.entrance, Unit.number,
               Building.number.label("building_number"), Building.name.label("building_name"),
               ServiceRequest.number.label("service_request_number"), Estate.script)
        .select_from(Complaint)
        .join(Estate, Estate.id == Complaint.estate_id)
        .outerjoin(Owner, by_id_in_estate(Owner, Complaint.owner_id, estates))
        .outerjoin(User, User.id == Complaint.handler_id)
        .outerjoin(Unit, by_id_in_estate(Unit, Complaint.unit_id, estates))
        .outerjoin(Building, by_id_in_estate(Building, Unit.building_id, estates))
        .outerjoin(ServiceRequest, by_id_in_estate(ServiceRequest, Complaint.service_request_id, estates))
        .where(Complaint.id.in_([c.id for c in complaints]))
    )
    extra = {row.id: row for row in (await session.execute(stmt)).all()}
    return [_read(c, extra[c.id], now=now) for c in complaints]


def _read(c: Complaint, x: Any, *, now: datetime) -> ComplaintRead:
    label = None
    if c.unit_id is not None:
        label = unit_label(building_number=x.building_number, building_name=x.building_name, entrance=x.entrance,
                           number=x.number, script=x.script)
    own = {k: getattr(c, k) for k in ComplaintRead.model_fields if k in Complaint.model_fields}
    return ComplaintRead.model_validate({**own, "owner_name": x.full_name, "handler_name": x.handler_name,
                                         "service_request_number": x.service_request_number,
                                         "unit_label": label, "is_overdue": c.is_overdue(now),
                                         "allowed_actions": c.allowed_actions()})


class ComplaintSort(StrEnum):
    """The keys complaints sort by."""

    received_at = "received_at"
    deadline = "deadline"
    number = "number"
    status = "status"
    severity = "severity"
    category = "category"


async def list_complaints(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
    status: ComplaintStatus | None = None, category: Category | None = None, severity: Severity | None = None,
    overdue: bool | None = None, handler_id: uuid.UUID | None = None, received_from: date | None = None,
    received_to: date | None = None,
) -> tuple[list[ComplaintRead], int]:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    tz, now = estate_time.estate_zone(estate), utcnow()
    stmt = select(Complaint).where(Complaint.estate_id == estate_id)
    for column, value in ((Complaint.status, status), (Complaint.category, category), (Complaint.severity, severity),
                          (Complaint.handler_id, handler_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    is_overdue = Complaint.status.in_(OPEN_STATES) & (Complaint.deadline < now)
    if overdue is not None:
        stmt = stmt.where(is_overdue if overdue else ~is_overdue)
    if received_from is not None:
        stmt = stmt.where(Complaint.received_at >= estate_time.day_start(received_from, tz))
    if received_to is not None:  # inclusive: the whole local day
        stmt = stmt.where(Complaint.received_at < estate_time.day_start(received_to + timedelta(days=1), tz))
    sortable = {
        ComplaintSort.received_at: Complaint.received_at, ComplaintSort.deadline: Complaint.deadline,
        ComplaintSort.number: Complaint.number, ComplaintSort.status: Complaint.status,
        ComplaintSort.severity: Complaint.severity, ComplaintSort.category: Complaint.category,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable,
                                 default=[Complaint.received_at.desc(), Complaint.id])
    return await to_reads(session, rows, now=now), total


async def get_complaint(session: AsyncSession, *, actor: Actor, complaint_id: uuid.UUID) -> ComplaintDetail:
    return await _detail(session, await load_visible(session, COMPLAINT, complaint_id, actor=actor))


async def _detail(session: AsyncSession, complaint: Complaint) -> ComplaintDetail:
    [read] = await to_reads(session, [complaint], now=utcnow())
    steps = (await session.execute(
        select(ComplaintStep).where(ComplaintStep.complaint_id == complaint.id)
        .order_by(ComplaintStep.done_at, ComplaintStep.created_at, ComplaintStep.id)
    )).scalars().all()
    return ComplaintDetail(**read.model_dump(), steps=[StepRead.model_validate(s) for s in steps])


# --- checks ----------------------------------------------------------------------------

async def _check_refs(session: AsyncSession, *, estate_id: uuid.UUID, data: ComplaintCreate) -> None:
    for field, model, value in (("owner_id", Owner, data.owner_id), ("unit_id", Unit, data.unit_id),
                                ("service_request_id", ServiceRequest, data.service_request_id)):
        if value is None:
            continue
        row = await session.get(model, value)
        if row is None or row.estate_id != estate_id:
            raise ComplaintRefNotInEstate(f"{field} names nothing of this estate", field=field)


async def _check_staff(session: AsyncSession, *, estate_id: uuid.UUID, user_id: uuid.UUID, field: str) -> None:
    stmt = (select(User.id).join(UserEstate, UserEstate.user_id == User.id)
            .where(User.id == user_id, UserEstate.estate_id == estate_id, User.is_active.is_(True)))
    if (await session.execute(stmt)).first() is None:
        raise HandlerNotInEstate(field=field)


def _check_time(at: datetime, *, now: datetime, earliest: datetime, field: str) -> None:
    if at > now + CLOCK_SLACK or at < earliest:
        raise ComplaintTimeOutOfRange(field=field)


async def _next_number(session: AsyncSession, *, estate_id: uuid.UUID, year: int) -> str:
    # The receipts' counter table, series "complaint": gapless, and concurrent registrations queue on its row.
    seq = await next_seq(session, estate_id=estate_id, series="complaint", year=year)
    return f"TS-{year}-{seq:04d}"


# --- changing --------------------------------------------------------------------------

async def register(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: ComplaintCreate) -> ComplaintDetail:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    now, tz = utcnow(), estate_time.estate_zone(estate)
    received_at = data.received_at or now
    _check_time(received_at, now=now, earliest=now - BACKDATE_LIMIT, field="received_at")
    await _check_refs(session, estate_id=estate_id, data=data)
    window = (await settings.windows(session, estate_id=estate_id))[data.severity]
    complaint = Complaint(
        estate_id=estate_id, number=await _next_number(session, estate_id=estate_id, year=now.astimezone(tz).year),
        **data.model_dump(exclude={"received_at"}), received_at=received_at,
        deadline=deadline_for(received_at, window, tz), registered_by=actor.id,
    )
    session.add(complaint)
    await session.flush()
    await audit.record(session, actor=actor, action="complaint.register", row=complaint)
    return await _detail(session, complaint)


async def _change(session: AsyncSession, *, actor: Actor, complaint: Complaint, action: str,
                  **kwargs: Any) -> ComplaintDetail:
    """Run one verb of the aggregate; audit.apply keeps its line of the form and audits the change."""
    await audit.apply(session, actor=actor, row=complaint, action=action, **kwargs)
    return await _detail(session, complaint)


async def assign(session: AsyncSession, *, actor: Actor, complaint_id: uuid.UUID, data: AssignCreate) -> ComplaintDetail:
    complaint = await load_visible(session, COMPLAINT, complaint_id, actor=actor, lock=True)
    await _check_staff(session, estate_id=complaint.estate_id, user_id=data.handler_id, field="handler_id")
    return await _change(session, actor=actor, complaint=complaint, action="assign",
                         handler_id=data.handler_id, note=data.note, by=actor.id, at=utcnow())


async def add_step(session: AsyncSession, *, actor: Actor, complaint_id: uuid.UUID, data: StepCreate) -> ComplaintDetail:
    complaint = await load_visible(session, COMPLAINT, complaint_id, actor=actor, lock=True)
    now = utcnow()
    done_at = data.done_at or now
    _check_time(done_at, now=now, earliest=complaint.received_at, field="done_at")
    if data.done_by is not None:
        await _check_staff(session, estate_id=complaint.estate_id, user_id=data.done_by, field="done_by")
    return await _change(session, actor=actor, complaint=complaint, action="add_step",
                         note=data.note, done_by=data.done_by or actor.id, done_at=done_at, by=actor.id)


async def resolve(session: AsyncSession, *, actor: Actor, complaint_id: uuid.UUID, data: ResolveCreate) -> ComplaintDetail:
    complaint = await load_visible(session, COMPLAINT, complaint_id, actor=actor, lock=True)
    return await _change(session, actor=actor, complaint=complaint, action="resolve",
                         resolution=data.resolution, by=actor.id, at=utcnow())


async def feedback(session: AsyncSession, *, actor: Actor, complaint_id: uuid.UUID, data: FeedbackCreate) -> ComplaintDetail:
    """Satisfied: closed. Not satisfied: reopened, with a fresh deadline of its severity from now."""
    complaint = await load_visible(session, COMPLAINT, complaint_id, actor=actor, lock=True)
    estate = await session.get_one(Estate, complaint.estate_id)
    now = utcnow()
    window = (await settings.windows(session, estate_id=complaint.estate_id))[Severity(complaint.severity)]
    new_deadline = deadline_for(now, window, estate_time.estate_zone(estate))
    outcome = "complaint.close" if data.satisfied else "complaint.reopen"
    return await _change(session, actor=actor, complaint=complaint, action="record_feedback", audit_action=outcome,
                         satisfied=data.satisfied, note=data.note, by=actor.id, at=now, new_deadline=new_deadline)


async def escalate(session: AsyncSession, *, actor: Actor, complaint_id: uuid.UUID, data: ReasonCreate) -> ComplaintDetail:
    complaint = await load_visible(session, COMPLAINT, complaint_id, actor=actor, lock=True)
    return await _change(session, actor=actor, complaint=complaint, action="escalate",
                         reason=data.reason, by=actor.id, at=utcnow())


async def withdraw(session: AsyncSession, *, actor: Actor, complaint_id: uuid.UUID, data: ReasonCreate) -> ComplaintDetail:
    complaint = await load_visible(session, COMPLAINT, complaint_id, actor=actor, lock=True)
    return await _change(session, actor=actor, complaint=complaint, action="withdraw",
                         reason=data.reason, by=actor.id, at=utcnow())


async def escalate_overdue(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, cutoff: datetime,
                           at: datetime) -> dict[str, int]:
    """Escalate to the CS director every open complaint past its deadline at `cutoff`, not escalated yet.

    Escalated ones are left alone, so a second run escalates nothing twice.
    """
    waiting = [s for s in OPEN_STATES if s is not ComplaintStatus.escalated]
    stmt = (select(Complaint)
            .where(Complaint.estate_id == estate_id, Complaint.status.in_(waiting), Complaint.deadline < cutoff)
            .order_by(Complaint.deadline, Complaint.id).with_for_update())
    complaints = (await session.execute(stmt)).scalars().all()
    for complaint in complaints:
        reason = f"Overdue: deadline {complaint.deadline.isoformat()} passed without a resolution"
        await audit.apply(session, actor=actor, row=complaint, action="escalate", audit_action="complaint.escalate_overdue",
                          reason=reason, by=None, at=at)
        await outbox.emit(session, estate_id=estate_id, type=EventType.deadline_missed, entity="complaint",
                          entity_id=complaint.id, data={"deadline": "complaint", "due_at": complaint.deadline,
                                                        "number": complaint.number, "escalated_to": "cs_director"}, at=at)
    return {"escalated": len(complaints)}
