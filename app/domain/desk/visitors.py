"""Walk-in visitors (接待, §7.3.12): who came, about which unit, why, what the desk did, and
which records the visit led to (a service request, a payment or receipt, a complaint)."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.desk.common import past_instant, person, user_names
from app.domain.desk.model import LinkKind, Visitor, VisitorLink
from app.domain.desk.schemas import LinkRead, LinkRef, VisitorCreate, VisitorRead
from app.domain.errors import AlreadyExists, Invalid, NotFound
from app.domain.fees.payments.model import Payment, Receipt
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.errors import UnitNotInEstate
from app.domain.registry.model import Owner, Unit
from app.domain.registry.service import check_estate
from app.domain.repairs.model import ServiceRequest
from app.domain.visibility import Visible, load_visible


class VisitorNotFound(NotFound):
    title = "Visitor record not found"
    title_zh = "未找到该访客登记"


VISITOR = Visible(model=Visitor, missing=VisitorNotFound)


class LinkedRecordNotFound(Invalid):
    title = "A linked record does not exist in this estate"
    title_zh = "本小区不存在所关联的记录"


class OwnerNotInEstate(Invalid):
    title = "owner_id names no owner of this estate"
    title_zh = "owner_id 不是本小区的业主"


class LinkAlreadyExists(AlreadyExists):
    title = "The visit is already linked to this record"
    title_zh = "该来访已关联此记录"


def _complaint_model() -> Any:
    # Looked up, not imported at the top: the complaints area is another's, and a complaint
    # link that cannot be checked is refused rather than stored unchecked.
    from app.domain.complaints import model as complaints

    return getattr(complaints, "Complaint", None)


def _target_model(kind: LinkKind) -> Any:
    return {LinkKind.service_request: ServiceRequest, LinkKind.payment: Payment, LinkKind.receipt: Receipt,
            LinkKind.complaint: _complaint_model()}[kind]


async def _check_links(session: AsyncSession, *, estate_id: uuid.UUID, links: Sequence[LinkRef]) -> None:
    missing = []
    for link in links:
        model = _target_model(link.kind)
        found = None
        if model is not None:
            stmt = select(model.id).where(model.id == link.id, model.estate_id == estate_id)
            found = (await session.execute(stmt)).scalar_one_or_none()
        if found is None:
            missing.append({"kind": link.kind.value, "id": str(link.id)})
    if missing:
        raise LinkedRecordNotFound(field="links", missing=missing)


async def _check_refs(session: AsyncSession, *, estate_id: uuid.UUID, data: VisitorCreate) -> None:
    if data.unit_id is not None:
        unit = await session.get(Unit, data.unit_id)
        if unit is None or unit.estate_id != estate_id:
            raise UnitNotInEstate("unit_id names no unit of this estate", field="unit_id")
    if data.owner_id is not None:
        owner = await session.get(Owner, data.owner_id)
        if owner is None or owner.estate_id != estate_id:
            raise OwnerNotInEstate(field="owner_id")
    await _check_links(session, estate_id=estate_id, links=data.links)


async def to_reads(session: AsyncSession, visitors: Sequence[Visitor]) -> list[VisitorRead]:
    ids = [v.id for v in visitors]
    links: dict[uuid.UUID, list[LinkRead]] = {i: [] for i in ids}
    if ids:
        stmt = select(VisitorLink).where(VisitorLink.visitor_id.in_(ids)).order_by(VisitorLink.created_at, VisitorLink.id)
        for link in (await session.execute(stmt)).scalars():
            links[link.visitor_id].append(LinkRead(kind=link.kind, id=link.target_id, linked_by=link.linked_by,
                                                   linked_at=link.created_at))
    names = await user_names(session, (v.received_by for v in visitors))
    return [VisitorRead.model_validate({
        **{c.key: getattr(v, c.key) for c in Visitor.__table__.columns},
        "received_by_name": names.get(v.received_by), "links": links[v.id],
    }) for v in visitors]


async def create_visitor(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: VisitorCreate) -> VisitorRead:
    me = person(actor)
    await check_estate(session, actor=actor, estate_id=estate_id)
    await _check_refs(session, estate_id=estate_id, data=data)
    visitor = Visitor(estate_id=estate_id, visited_at=past_instant(data.visited_at, field="visited_at"),
                      visitor_name=data.visitor_name, contact_phone=data.contact_phone, unit_id=data.unit_id,
                      owner_id=data.owner_id, purpose=data.purpose, action_taken=data.action_taken, received_by=me)
    session.add(visitor)
    await session.flush()
    await audit.record(session, actor=actor, action="visitor.create", row=visitor)
    for link in data.links:
        await _add_link(session, actor=actor, visitor=visitor, link=link)
    return (await to_reads(session, [visitor]))[0]


async def _add_link(session: AsyncSession, *, actor: Actor, visitor: Visitor, link: LinkRef) -> None:
    row = VisitorLink(estate_id=visitor.estate_id, visitor_id=visitor.id, kind=link.kind, target_id=link.id, linked_by=actor.id)
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="visitor_link.create", row=row)


async def get_visitor(session: AsyncSession, *, actor: Actor, visitor_id: uuid.UUID) -> VisitorRead:
    return (await to_reads(session, [await load_visible(session, VISITOR, visitor_id, actor=actor)]))[0]


async def add_link(session: AsyncSession, *, actor: Actor, visitor_id: uuid.UUID, link: LinkRef) -> VisitorRead:
    """Link a record made after the visit was logged (the request registered a minute later)."""
    person(actor)
    visitor = await load_visible(session, VISITOR, visitor_id, actor=actor)
    await _check_links(session, estate_id=visitor.estate_id, links=[link])
    taken = select(VisitorLink.id).where(VisitorLink.visitor_id == visitor.id, VisitorLink.kind == link.kind,
                                         VisitorLink.target_id == link.id)
    if (await session.execute(taken)).scalar_one_or_none() is not None:
        raise LinkAlreadyExists(kind=link.kind.value, id=str(link.id))
    await _add_link(session, actor=actor, visitor=visitor, link=link)
    return (await to_reads(session, [visitor]))[0]


class VisitorSort(StrEnum):
    """The keys visitors sort by."""

    visited_at = "visited_at"
    visitor_name = "visitor_name"


async def list_visitors(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, day: date | None = None,
    unit_id: uuid.UUID | None = None,
) -> tuple[list[VisitorRead], int]:
    """The day's visitors (estate-local day, default today), in the order they came."""
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    start, end = estate_time.day_bounds(day or estate_time.today(estate), estate_time.estate_zone(estate))
    stmt = select(Visitor).where(Visitor.estate_id == estate_id, Visitor.visited_at >= start, Visitor.visited_at < end)
    if unit_id is not None:
        stmt = stmt.where(Visitor.unit_id == unit_id)
    sortable = {VisitorSort.visited_at: Visitor.visited_at, VisitorSort.visitor_name: Visitor.visitor_name}
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[Visitor.visited_at, Visitor.id])
    return await to_reads(session, rows), total
