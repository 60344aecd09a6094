"""Completion vouchers (維修憑證): posting one IS the completion of the work order.

The technician posts from the field in one call: what was done, the materials, the time,
the charge, the owner's confirmation (a signature, or the one-time code the owner got by SMS) and
photos. The order is completed through audit.apply and its callback is scheduled in
the same transaction; the files are written last, so a refused post leaves nothing on disk.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import files
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.callbacks.model import Callback
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.fees.billing import charges as fee_charges
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry
from app.domain.registry.model import Estate
from app.domain.repairs.model import ORDER_TRANSITIONS, WorkOrder, WorkOrderStatus
from app.domain.repairs.orders import dispatch, field, owner_codes
from app.domain.repairs.orders.reading import load_order, load_own_order, only_technician
from app.domain.repairs.vouchers.model import ConfirmedBy, FileKind, Voucher, VoucherFile, VoucherMaterial
from app.domain.repairs.vouchers.schemas import (
    MAX_PHOTOS,
    MaterialRead,
    OwnerConfirmationIn,
    VoucherCreate,
    VoucherFileRead,
    VoucherPosted,
    VoucherRead,
)
from app.domain.stock import movements as stock_movements
from app.domain.visibility import Visible, load_visible, own

PHOTOS_WITHIN = timedelta(hours=24)


class VoucherNotFound(NotFound):
    title = "Voucher not found"
    title_zh = "未找到该维修凭证"


# A technician sees only his own vouchers, as he does his orders.
VOUCHER = Visible(model=Voucher, missing=VoucherNotFound,
                  narrow=lambda actor: own(Voucher.technician_id, actor) if only_technician(actor) else None)


class VoucherFileNotFound(NotFound):
    title = "Voucher file not found"
    title_zh = "未找到该维修凭证的文件"


class OwnerConfirmationRequired(Invalid):
    title = "An in-unit repair needs the owner's confirmation: a signature or the owner's code"
    title_zh = "户内维修须有业主确认：签名或业主确认码"


class InUnitRepairIsNotPublic(Invalid):
    title = "A repair in an owner's unit cannot be recorded as a public-area repair"
    title_zh = "业主户内的维修不能登记为公共区域维修"


class ChargeableNeedsAmount(Invalid):
    title = "A chargeable repair needs an amount above zero"
    title_zh = "有偿维修的金额须大于零"


class FreeRepairHasAmount(Invalid):
    title = "A repair that is not chargeable has the amount 0"
    title_zh = "无偿维修的金额为 0"


class TooManyPhotos(Invalid):
    title = f"A voucher holds at most {MAX_PHOTOS} photos"
    title_zh = "一张维修凭证最多 10 张照片"


class PhotosWindowClosed(Conflict):
    title = "Photos can be added only within 24 hours of posting the voucher"
    title_zh = "只能在维修凭证登记后 24 小时内补充照片"


# --- the owner's confirmation ---------------------------------------------------------

def confirmation(*, public_area: bool, given: OwnerConfirmationIn | None, signed: bool) -> tuple[ConfirmedBy, str]:
    """(how, name) of the owner's confirmation; an in-unit repair must have one. The code itself is owner_codes.use's."""
    name = given.name if given else ""
    if given is not None and signed:
        return ConfirmedBy.signature, name
    if given is not None and given.code is not None:
        return ConfirmedBy.code, name
    if public_area:  # nobody's home to sign for a stairwell light
        return (ConfirmedBy.signature if signed else ConfirmedBy.none), name
    raise OwnerConfirmationRequired(field="owner_confirmation")


async def _owner_confirms(session: AsyncSession, *, actor: Actor, order: WorkOrder, given: OwnerConfirmationIn | None,
                          public_area: bool, signed: bool, policy: owner_codes.CodePolicy) -> tuple[ConfirmedBy, str]:
    how, name = confirmation(public_area=public_area, given=given, signed=signed)
    if given is not None and given.code is not None:
        # Nothing is written before this: a wrong code commits only its own count (WrongOwnerCode.keeps_changes).
        await owner_codes.use(session, actor=actor, order=order, code=given.code, policy=policy)
    return how, name


def check_charge(data: VoucherCreate) -> None:
    if data.chargeable and data.amount <= 0:
        raise ChargeableNeedsAmount(field="amount")
    if not data.chargeable and data.amount != 0:
        raise FreeRepairHasAmount(field="amount")


# --- posting ----------------------------------------------------------------------------

def _check_can_complete(order: WorkOrder) -> None:
    # Ask the transition table first, so a second voucher is a 409 before anything is read or written.
    status = WorkOrderStatus(order.status)
    if status == WorkOrderStatus.dispatched:
        status = ORDER_TRANSITIONS.next_state(status, "start")
    ORDER_TRANSITIONS.next_state(status, "complete")


async def _check_files(signature: files.Upload | None, photos: list[files.Upload], *,
                       max_bytes: int) -> tuple[files.CheckedFile | None, list[files.CheckedFile]]:
    if len(photos) > MAX_PHOTOS:
        raise TooManyPhotos(field="photos", max_photos=MAX_PHOTOS)
    sig = (await files.check_off_loop(signature, max_bytes=max_bytes, accepted=files.SCANS, field="signature")
           if signature else None)
    checked = [await files.check_off_loop(p, max_bytes=max_bytes, accepted=files.IMAGES, field=f"photos.{i}")
               for i, p in enumerate(photos)]
    return sig, checked


def _file_rows(voucher: Voucher, checked: list[tuple[FileKind, files.CheckedFile]], *, local_now: datetime
               ) -> list[tuple[VoucherFile, bytes]]:
    rows = []
    for kind, f in checked:
        path = files.new_relative_path(estate_id=voucher.estate_id, day=local_now.date(), ext=f.type.ext)
        rows.append((VoucherFile(estate_id=voucher.estate_id, voucher_id=voucher.id, kind=kind, content_type=f.type.content_type,
                                 size_bytes=f.size, sha256=f.sha256, path=path, original_filename=f.original_filename), f.data))
    return rows


async def _store(session: AsyncSession, rows: list[tuple[VoucherFile, bytes]], *, actor: Actor, upload_dir: Path) -> None:
    """Flush the file rows, then write the bytes; the files go again if the transaction is rolled back."""
    session.add_all([row for row, _ in rows])
    await session.flush()
    for row, _ in rows:
        await audit.record(session, actor=actor, action="create", entity="voucher_file", entity_id=row.id,
                           estate_id=row.estate_id, after=snapshot(row))
    await session.flush()
    written = files.write_all(upload_dir, [(row.path, data) for row, data in rows])
    files.remove_on_rollback(session, written)


async def post_voucher(
    session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, data: VoucherCreate, signature: files.Upload | None,
    photos: list[files.Upload], upload_dir: Path, max_upload_bytes: int, code_policy: owner_codes.CodePolicy,
    device_time: datetime | None = None,
) -> VoucherPosted:
    """`device_time`: when the phone says the work was finished (a voucher queued offline)."""
    order = await load_own_order(session, actor=actor, order_id=order_id)
    field.check_device_time(order, device_time)
    _check_can_complete(order)
    check_charge(data)
    public = order.is_public_area if data.is_public_area is None else data.is_public_area
    if public and order.unit_id is not None and not order.is_public_area:
        # Otherwise marking an owner's flat "public" would skip the owner's confirmation.
        raise InUnitRepairIsNotPublic(field="is_public_area")
    sig, checked_photos = await _check_files(signature, photos, max_bytes=max_upload_bytes)
    how, name = await _owner_confirms(session, actor=actor, order=order, given=data.owner_confirmation, public_area=public,
                                      signed=sig is not None, policy=code_policy)
    estate = await session.get(Estate, order.estate_id)
    assert estate is not None
    tz, now = estate_time.estate_zone(estate), utcnow()
    if WorkOrderStatus(order.status) == WorkOrderStatus.dispatched:
        await audit.apply(session, actor=actor, row=order, action="start", at=now, on_device_at=device_time)
    assert actor.id is not None  # a technician (a person) posts the voucher
    voucher = Voucher(estate_id=order.estate_id, work_order_id=order.id, round=order.reopen_count + 1, technician_id=actor.id,
                      work_done=data.work_done, minutes_spent=data.minutes_spent, chargeable=data.chargeable,
                      amount=data.amount, is_public_area=public, owner_confirmed_name=name, owner_confirmed_by=how,
                      posted_at=now, posted_on_device_at=device_time)
    session.add(voucher)
    await session.flush()
    materials = [VoucherMaterial(estate_id=voucher.estate_id, voucher_id=voucher.id, line_no=i, item=m.item,
                                 quantity=m.quantity, unit=m.unit) for i, m in enumerate(data.materials, start=1)]
    session.add_all(materials)
    await audit.record(session, actor=actor, action="create", entity="voucher", entity_id=voucher.id, estate_id=voucher.estate_id,
                       after={**snapshot(voucher), "materials": [m.model_dump() for m in data.materials]})
    # Lines named exactly as one of the estate's stock items leave the store with the voucher.
    await stock_movements.issue_voucher_materials(session, actor=actor, voucher=voucher, lines=materials)
    # A chargeable repair becomes a one-off charge on the unit's account at once.
    await fee_charges.charge_for_voucher(session, actor=actor, voucher=voucher)
    await audit.apply(session, actor=actor, row=order, action="complete", at=now, on_device_at=device_time)
    await dispatch.end_bookings(session, actor=actor, order_id=order.id, at=now)
    callback = Callback.for_completed_order(order, tz=tz, round=voucher.round)
    session.add(callback)
    await session.flush()
    await audit.record(session, actor=actor, action="create", entity="callback", entity_id=callback.id,
                       estate_id=callback.estate_id, after=snapshot(callback))
    kinds = ([(FileKind.signature, sig)] if sig else []) + [(FileKind.photo, p) for p in checked_photos]
    await _store(session, _file_rows(voucher, kinds, local_now=now.astimezone(tz)), actor=actor, upload_dir=upload_dir)
    read = (await _reads(session, [voucher]))[0]
    return VoucherPosted(**read.model_dump(), order_status=order.status, callback_id=callback.id, callback_due_at=callback.due_at)


async def add_photos(session: AsyncSession, *, actor: Actor, voucher_id: uuid.UUID, photos: list[files.Upload],
                     upload_dir: Path, max_upload_bytes: int) -> VoucherRead:
    """The technician adds photos he could not send from the field, within 24 hours of posting."""
    voucher = await load_visible(session, VOUCHER, voucher_id, actor=actor, lock=True)
    if voucher.technician_id != actor.id:
        raise VoucherNotFound()
    now = utcnow()
    if now - voucher.posted_at > PHOTOS_WITHIN:
        raise PhotosWindowClosed(posted_at=voucher.posted_at.isoformat())
    existing = len((await session.execute(select(VoucherFile.id).where(
        VoucherFile.voucher_id == voucher.id, VoucherFile.kind == FileKind.photo))).all())
    if existing + len(photos) > MAX_PHOTOS:
        raise TooManyPhotos(field="photos", max_photos=MAX_PHOTOS, already=existing)
    _, checked = await _check_files(None, photos, max_bytes=max_upload_bytes)
    estate = await session.get(Estate, voucher.estate_id)
    assert estate is not None
    local_now = now.astimezone(estate_time.estate_zone(estate))
    await _store(session, _file_rows(voucher, [(FileKind.photo, p) for p in checked], local_now=local_now),
                 actor=actor, upload_dir=upload_dir)
    return (await _reads(session, [voucher]))[0]


# --- reading ----------------------------------------------------------------------------

async def _reads(session: AsyncSession, vouchers: list[Voucher]) -> list[VoucherRead]:
    """Vouchers with their material lines and file metadata, in two queries for the whole page."""
    ids = [v.id for v in vouchers]
    # As stored (Numeric(10, 2): "1.00"), not as the lines were typed a moment ago.
    materials = (await session.execute(select(VoucherMaterial).where(VoucherMaterial.voucher_id.in_(ids))
                                       .order_by(VoucherMaterial.line_no).execution_options(populate_existing=True))).scalars().all()
    stored = (await session.execute(select(VoucherFile).where(VoucherFile.voucher_id.in_(ids))
                                    .order_by(VoucherFile.created_at, VoucherFile.id))).scalars().all()
    numbers = dict((await session.execute(select(WorkOrder.id, WorkOrder.number).where(
        WorkOrder.id.in_({v.work_order_id for v in vouchers})))).tuples().all())
    return [VoucherRead.model_validate({
        **VoucherRead.model_validate(v).model_dump(exclude={"materials", "files", "work_order_number"}),
        "work_order_number": numbers[v.work_order_id],
        "materials": [MaterialRead.model_validate(m) for m in materials if m.voucher_id == v.id],
        "files": [VoucherFileRead.model_validate(f) for f in stored if f.voucher_id == v.id],
    }) for v in vouchers]


async def get_voucher(session: AsyncSession, *, actor: Actor, voucher_id: uuid.UUID) -> VoucherRead:
    return (await _reads(session, [await load_visible(session, VOUCHER, voucher_id, actor=actor)]))[0]


class OrderVoucherSort(StrEnum):
    """The keys an order's vouchers sort by."""

    round = "round"
    posted_at = "posted_at"


async def list_order_vouchers(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID,
                              page: PageRequest) -> tuple[list[VoucherRead], int]:
    """Every round's voucher of one order, first round first."""
    order = await load_order(session, actor=actor, order_id=order_id)
    stmt = select(Voucher).where(Voucher.work_order_id == order.id)
    rows, total = await paginate(session, stmt, page, sortable={
        OrderVoucherSort.round: Voucher.round, OrderVoucherSort.posted_at: Voucher.posted_at,
    },
                                 default=[Voucher.round, Voucher.id])
    return await _reads(session, rows), total


class VoucherSort(StrEnum):
    """The keys an estate's vouchers sort by."""

    posted_at = "posted_at"
    amount = "amount"
    minutes_spent = "minutes_spent"


async def list_estate_vouchers(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
    posted_from: datetime | None = None, posted_to: datetime | None = None, is_public_area: bool | None = None,
    technician_id: uuid.UUID | None = None, building_id: uuid.UUID | None = None, chargeable: bool | None = None,
) -> tuple[list[VoucherRead], int]:
    await registry.check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(Voucher).where(Voucher.estate_id == estate_id)
    if only_technician(actor):
        stmt = stmt.where(Voucher.technician_id == actor.id)
    if building_id is not None:
        stmt = stmt.join(WorkOrder, WorkOrder.id == Voucher.work_order_id).where(WorkOrder.building_id == building_id)
    for column, value in [(Voucher.is_public_area, is_public_area), (Voucher.technician_id, technician_id),
                          (Voucher.chargeable, chargeable)]:
        if value is not None:
            stmt = stmt.where(column == value)
    if posted_from is not None:
        stmt = stmt.where(Voucher.posted_at >= posted_from)
    if posted_to is not None:
        stmt = stmt.where(Voucher.posted_at < posted_to)
    sortable = {
        VoucherSort.posted_at: Voucher.posted_at, VoucherSort.amount: Voucher.amount,
        VoucherSort.minutes_spent: Voucher.minutes_spent,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[Voucher.posted_at.desc(), Voucher.id])
    return await _reads(session, rows), total


async def open_file(session: AsyncSession, *, actor: Actor, voucher_id: uuid.UUID, file_id: uuid.UUID,
                    upload_dir: Path) -> tuple[Path, str, str]:
    """(path on disk, content type, a download name of our own) of one of the voucher's files."""
    voucher = await load_visible(session, VOUCHER, voucher_id, actor=actor)
    row = await session.get(VoucherFile, file_id)
    if row is None or row.voucher_id != voucher.id:
        raise VoucherFileNotFound()
    path = files.resolve(upload_dir, row.path)
    if not path.is_file():
        raise files.StoredFileMissing()
    return path, row.content_type, f"voucher-{voucher.id}-{row.kind}-{row.id}{path.suffix}"
