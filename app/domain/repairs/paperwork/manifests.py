"""Month end (§7.3.10): the month's vouchers go to each jurisdiction's manager for the owners'
archives; public-area vouchers go to the records clerk. Each recipient acknowledges receipt,
and approved orders whose voucher was received are archived.

A month is built once (ManifestsAlreadyBuilt, 409, on a second build): one manifest per
jurisdiction of the estate and one for public areas, even when empty, so "nothing to hand
over" is on record too; in-unit vouchers of buildings in no jurisdiction get a manifest of
their own with no recipient (a supervisor acknowledges it). The job runs at 17:00 on the
month's last day, so a voucher posted later that evening is not lost: a build also takes
the previous month's vouchers that are on no manifest yet.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry
from app.domain.registry.model import Building, Estate, Jurisdiction, Unit
from app.domain.registry.names import place
from app.domain.registry.script import script_of
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.paperwork.model import ManifestKind, ManifestLine, VoucherManifest
from app.domain.repairs.paperwork.schemas import ManifestLineRead, VoucherManifestDetail, VoucherManifestRead
from app.domain.repairs.vouchers.model import Voucher
from app.domain.visibility import Visible, load_visible


class ManifestNotFound(NotFound):
    title = "Voucher manifest not found"
    title_zh = "未找到该维修凭证交接单"


MANIFEST = Visible(model=VoucherManifest, missing=ManifestNotFound)


class ManifestsAlreadyBuilt(Conflict):
    title = "The voucher manifests of that month have been built already"
    title_zh = "该月的维修凭证交接单已生成"


class MonthNotStarted(Invalid):
    title = "That month has not begun"
    title_zh = "该月份尚未开始"


class NotTheRecipient(Forbidden):
    title = "Only the manifest's recipient (or a supervisor on their behalf) acknowledges it"
    title_zh = "只有交接单的接收人（或代其操作的主管）才能确认签收"


async def build_manifests(session: AsyncSession, *, actor: Actor, estate: Estate, month: str) -> tuple[list[VoucherManifest], bool]:
    """The month's manifests and whether they were built now (False: they existed already)."""
    existing = list((await session.execute(
        select(VoucherManifest).where(VoucherManifest.estate_id == estate.id, VoucherManifest.month == month)
        .order_by(VoucherManifest.kind, VoucherManifest.id))).scalars())
    if existing:
        return existing, False
    tz = estate_time.estate_zone(estate)
    start, end = estate_time.month_bounds(month, tz)
    now = utcnow()
    if start > now:
        raise MonthNotStarted(field="month", month=month)
    since, _ = estate_time.month_bounds(estate_time.previous_month(start.date()), tz)
    vouchers = (await session.execute(
        select(Voucher.id, Voucher.work_order_id, Voucher.is_public_area, Building.jurisdiction_id)
        .join(WorkOrder, WorkOrder.id == Voucher.work_order_id)
        .outerjoin(Building, Building.id == WorkOrder.building_id)
        .where(Voucher.estate_id == estate.id, Voucher.posted_at >= since, Voucher.posted_at < min(end, now),
               ~select(ManifestLine.id).where(ManifestLine.voucher_id == Voucher.id).exists())
        .order_by(Voucher.posted_at, Voucher.id))).all()
    manifests = await _new_manifests(session, estate=estate, month=month, at=now,
                                     unassigned=any(not v.is_public_area and v.jurisdiction_id is None for v in vouchers))
    for v in vouchers:
        key = (ManifestKind.public_area, None) if v.is_public_area else (ManifestKind.jurisdiction, v.jurisdiction_id)
        session.add(ManifestLine(estate_id=estate.id, manifest_id=manifests[key].id, voucher_id=v.id, work_order_id=v.work_order_id))
    await session.flush()
    for m in manifests.values():
        await audit.record(session, actor=actor, action="voucher_manifest.build", entity="voucher_manifest", entity_id=m.id,
                           estate_id=estate.id, after=snapshot(m))
    return list(manifests.values()), True


async def _new_manifests(
    session: AsyncSession, *, estate: Estate, month: str, at: datetime, unassigned: bool,
) -> dict[tuple[ManifestKind, uuid.UUID | None], VoucherManifest]:
    jurisdictions = (await session.execute(
        select(Jurisdiction.id, Jurisdiction.manager_id).where(Jurisdiction.estate_id == estate.id).order_by(Jurisdiction.name))).all()
    out = {(ManifestKind.jurisdiction, j.id): VoucherManifest(estate_id=estate.id, month=month, kind=ManifestKind.jurisdiction,
                                                              jurisdiction_id=j.id, recipient_id=j.manager_id, built_at=at)
           for j in jurisdictions}
    if unassigned:
        out[(ManifestKind.jurisdiction, None)] = VoucherManifest(estate_id=estate.id, month=month, kind=ManifestKind.jurisdiction,
                                                                 built_at=at)
    out[(ManifestKind.public_area, None)] = VoucherManifest(estate_id=estate.id, month=month, kind=ManifestKind.public_area, built_at=at)
    session.add_all(out.values())
    await session.flush()
    return out


async def create_manifests(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str) -> list[VoucherManifestRead]:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    manifests, built = await build_manifests(session, actor=actor, estate=estate, month=month)
    if not built:
        raise ManifestsAlreadyBuilt(field="month", manifest_ids=[str(m.id) for m in manifests])
    return await _reads(session, select(VoucherManifest).where(VoucherManifest.id.in_([m.id for m in manifests]))
                        .order_by(VoucherManifest.kind, VoucherManifest.id))


def _read_stmt() -> Select[VoucherManifest, str, int]:
    vouchers = select(func.count()).where(ManifestLine.manifest_id == VoucherManifest.id).correlate(VoucherManifest).scalar_subquery()
    return (select(VoucherManifest, Jurisdiction.name, vouchers)
            .outerjoin(Jurisdiction, Jurisdiction.id == VoucherManifest.jurisdiction_id))


def _read(m: VoucherManifest, jurisdiction_name: str | None, vouchers: int) -> VoucherManifestRead:
    return VoucherManifestRead(id=m.id, estate_id=m.estate_id, month=m.month, kind=ManifestKind(m.kind), jurisdiction_id=m.jurisdiction_id,
                               jurisdiction_name=jurisdiction_name, recipient_id=m.recipient_id, built_at=m.built_at,
                               acknowledged_at=m.acknowledged_at, acknowledged_by=m.acknowledged_by, vouchers=vouchers)


async def _reads(session: AsyncSession, stmt: Select[VoucherManifest]) -> list[VoucherManifestRead]:
    ids = select(stmt.subquery().c.id)
    rows = (await session.execute(_read_stmt().where(VoucherManifest.id.in_(ids))
                                  .order_by(VoucherManifest.kind, Jurisdiction.name, VoucherManifest.id))).all()
    return [_read(m, name, n) for m, name, n in rows]


class ManifestSort(StrEnum):
    """The keys voucher manifests sort by."""

    month = "month"
    kind = "kind"
    built_at = "built_at"
    acknowledged_at = "acknowledged_at"


async def list_manifests(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str | None, page: PageRequest,
) -> tuple[list[VoucherManifestRead], int]:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(VoucherManifest).where(VoucherManifest.estate_id == estate.id)
    if month is not None:
        stmt = stmt.where(VoucherManifest.month == month)
    sortable = {
        ManifestSort.month: VoucherManifest.month, ManifestSort.kind: VoucherManifest.kind,
        ManifestSort.built_at: VoucherManifest.built_at, ManifestSort.acknowledged_at: VoucherManifest.acknowledged_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable,
                                 default=[VoucherManifest.month.desc(), VoucherManifest.kind, VoucherManifest.id])
    reads = {r.id: r for r in await _reads(session, select(VoucherManifest).where(VoucherManifest.id.in_([m.id for m in rows])))}
    return [reads[m.id] for m in rows], total


async def _detail(session: AsyncSession, manifest: VoucherManifest) -> VoucherManifestDetail:
    [read] = await _reads(session, select(VoucherManifest).where(VoucherManifest.id == manifest.id))
    stmt = (
        select(ManifestLine, Voucher, WorkOrder.status, WorkOrder.number, ServiceRequest.location, Unit, Building, User.full_name)
        .join(Voucher, Voucher.id == ManifestLine.voucher_id).join(WorkOrder, WorkOrder.id == ManifestLine.work_order_id)
        .join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id)
        .outerjoin(Unit, Unit.id == WorkOrder.unit_id).outerjoin(Building, Building.id == Unit.building_id)
        .outerjoin(User, User.id == Voucher.technician_id)
        .where(ManifestLine.manifest_id == manifest.id).order_by(Voucher.posted_at, ManifestLine.id)
    )
    script = await script_of(session, manifest.estate_id)
    items = [ManifestLineRead(id=ln.id, voucher_id=v.id, work_order_id=ln.work_order_id, work_order_number=number,
                              posted_at=v.posted_at, work_done=v.work_done, place=place(u, b, loc, script=script),
                              technician_name=tech, order_status=status)
             for ln, v, status, number, loc, u, b, tech in (await session.execute(stmt)).all()]
    return VoucherManifestDetail(**read.model_dump(), items=items)


async def get_manifest(session: AsyncSession, *, actor: Actor, manifest_id: uuid.UUID) -> VoucherManifestDetail:
    return await _detail(session, await load_visible(session, MANIFEST, manifest_id, actor=actor))


def _check_recipient(actor: Actor, manifest: VoucherManifest) -> None:
    if actor.has_role(Role.supervisor) or actor.has_role(Role.admin):
        return
    if ManifestKind(manifest.kind) == ManifestKind.public_area and actor.has_role(Role.records_clerk):
        return
    if ManifestKind(manifest.kind) == ManifestKind.jurisdiction and manifest.recipient_id is not None \
            and actor.id == manifest.recipient_id:
        return
    raise NotTheRecipient(recipient_id=str(manifest.recipient_id) if manifest.recipient_id else None)


async def acknowledge(session: AsyncSession, *, actor: Actor, manifest_id: uuid.UUID) -> VoucherManifestDetail:
    """Record receipt; the approved orders among its vouchers are archived."""
    manifest = await load_visible(session, MANIFEST, manifest_id, actor=actor, lock=True)
    _check_recipient(actor, manifest)
    now = utcnow()
    await audit.apply(session, actor=actor, row=manifest, action="acknowledge", by=actor.id, at=now)
    approved = (await session.execute(
        select(WorkOrder).where(WorkOrder.id.in_(select(ManifestLine.work_order_id).where(ManifestLine.manifest_id == manifest.id)),
                                WorkOrder.status == WorkOrderStatus.approved.value)
        .order_by(WorkOrder.id).with_for_update())).scalars().all()
    for order in approved:
        await audit.apply(session, actor=actor, row=order, action="archive", at=now)
    return await _detail(session, manifest)
