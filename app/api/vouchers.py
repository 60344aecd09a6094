"""Completion vouchers (維修憑證): posted by the technician from the field, read by the office."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import Json
from starlette import status

from app.api.deps import KnownFormFields, SessionDep, SettingsDep, page_of, require
from app.api.device_time import DEVICE_TIME_ERRORS, DeviceTime
from app.api.errors import PROBLEM, Problem, Responses, problems
from app.api.idempotency import idempotent
from app.config import Settings
from app.domain import files
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound
from app.domain.repairs.orders import owner_code_model as code_errors
from app.domain.repairs.orders import owner_codes
from app.domain.repairs.orders.field import OrderCancelled, OrderReassigned
from app.domain.repairs.orders.reading import WorkOrderNotFound
from app.domain.repairs.vouchers import service
from app.domain.repairs.vouchers.schemas import MAX_PHOTOS, OwnerCodeIssued, OwnerCodeRead, VoucherCreate, VoucherPosted, VoucherRead
from app.domain.types import Instant, QueryFlag

router = APIRouter(tags=["vouchers"])

Read = Annotated[Actor, Depends(require(Perm.requests_read))]
Desk = Annotated[Actor, Depends(require(Perm.orders_dispatch))]
Work = Annotated[Actor, Depends(require(Perm.orders_work))]
OrderVoucherPage = Annotated[PageRequest, Depends(page_of(service.OrderVoucherSort))]
VoucherPage = Annotated[PageRequest, Depends(page_of(service.VoucherSort))]
TOO_LARGE: Responses = {status.HTTP_413_CONTENT_TOO_LARGE: {"model": Problem, "content": {PROBLEM: {}},
                                                 "description": "The request body is larger than the upload limit"}}
FILE_ERRORS = (files.UnsupportedFileType, files.UnreadableImage, files.ImageTooLarge, files.FileTooLarge, files.EmptyFile,
               service.TooManyPhotos)
BINARY = {"schema": {"type": "string", "format": "binary"}}
FILE_CONTENT: Responses = {200: {"description": "The file's bytes, with its sniffed content type",
                      "content": {t.content_type: BINARY for t in sorted(files.SCANS, key=lambda t: t.content_type)}}}


def _policy(settings: Settings) -> owner_codes.CodePolicy:
    return owner_codes.CodePolicy(key=settings.signing_secret, valid_for=timedelta(hours=settings.owner_code_valid_hours),
                                  max_attempts=settings.owner_code_max_attempts)


async def _read(upload: UploadFile, limit: int) -> files.Upload:
    # One byte over the limit is enough to know it is too large; the domain names the error.
    return files.Upload(data=await upload.read(limit + 1), filename=upload.filename or "")


@router.post(
    "/work-orders/{order_id}/voucher", response_model=VoucherPosted, status_code=status.HTTP_201_CREATED,
    responses={**problems(WorkOrderNotFound, IllegalTransition, service.OwnerConfirmationRequired,
                          code_errors.WrongOwnerCode, code_errors.OwnerCodeLocked, code_errors.OwnerCodeExpired,
                          code_errors.OwnerCodeAlreadyUsed, code_errors.NoOwnerCode, service.InUnitRepairIsNotPublic,
                          service.ChargeableNeedsAmount, service.FreeRepairHasAmount, *FILE_ERRORS,
                          OrderReassigned, OrderCancelled, *DEVICE_TIME_ERRORS),
               **TOO_LARGE},
)
@idempotent(status.HTTP_201_CREATED)
async def post_voucher(
    order_id: uuid.UUID, actor: Work, _parts: KnownFormFields, session: SessionDep, settings: SettingsDep,
    voucher: Annotated[Json[VoucherCreate], Form(description="JSON: work_done, materials, minutes_spent, chargeable, amount, "
                                                             "is_public_area, owner_confirmation {name, code}")],
    signature: Annotated[UploadFile | None, File(description="The owner's signature: JPEG, PNG, WebP or a scanned PDF")] = None,
    photos: Annotated[list[UploadFile] | None, File(description=f"Up to {MAX_PHOTOS} photos: JPEG, PNG or WebP")] = None,
    device_time: DeviceTime = None,
) -> VoucherPosted:
    """Post the completion voucher from the field; this completes the work order.

    Only the technician the order is assigned to, while it is dispatched (it is started
    first) or in progress. An in-unit repair needs the owner's confirmation: a `signature`
    image, or `owner_confirmation.code`, the owner's 6-digit one-time code (sent by SMS when the
    desk issued it). A wrong code counts against the order: after a few the code locks, and
    only a supervisor's new code opens it again. The amount
    is 0 for a free repair and above 0 for a chargeable one. File types are read from the
    bytes (JPEG, PNG, WebP; PDF for a scanned signature). The order's callback is scheduled
    for the end of the 7th local day.

    Queued offline, the voucher carries `X-Device-Time` (when the work was finished: recorded as
    `posted_on_device_at` and the order's `completed_on_device_at`, beside the server's times) and
    its Idempotency-Key, so a retry after a lost answer gets the one voucher. An order taken from
    the technician meanwhile answers 409 order-reassigned; one cancelled, 409 order-cancelled.
    """
    limit = settings.max_upload_bytes
    return await service.post_voucher(
        session, actor=actor, order_id=order_id, data=voucher,
        signature=await _read(signature, limit) if signature is not None else None,
        photos=[await _read(p, limit) for p in photos or []],
        upload_dir=settings.upload_dir, max_upload_bytes=limit, code_policy=_policy(settings), device_time=device_time)


@router.post("/work-orders/{order_id}/owner-code", response_model=OwnerCodeIssued, status_code=status.HTTP_201_CREATED,
             responses=problems(WorkOrderNotFound, owner_codes.OrderNotOpen, code_errors.OwnerCodeLocked))
async def issue_owner_code(order_id: uuid.UUID, actor: Desk, session: SessionDep, settings: SettingsDep,
                           response: Response) -> OwnerCodeIssued:
    """Issue the owner's one-time 6-digit code: sent to the unit's owners by SMS, shown here once.

    On completion the owner reads it out to the technician instead of signing. Issuing again
    (the owner lost the SMS) replaces the earlier code; the count of wrong attempts stays.
    When wrong codes have locked the order, only a supervisor (or an administrator) issues a
    new one, which unlocks it. The code is stored only as a hash: it cannot be shown again.
    """
    response.headers["Cache-Control"] = "no-store"
    return await owner_codes.issue(session, actor=actor, order_id=order_id, policy=_policy(settings))


@router.get("/work-orders/{order_id}/owner-code", response_model=OwnerCodeRead,
            responses=problems(WorkOrderNotFound, owner_codes.OwnerCodeNotIssued))
async def get_owner_code(order_id: uuid.UUID, actor: Desk, session: SessionDep, settings: SettingsDep) -> OwnerCodeRead:
    """Where the order's owner code stands (active, expired, consumed, locked) and the attempts left; never the code."""
    return await owner_codes.get_status(session, actor=actor, order_id=order_id, policy=_policy(settings))


@router.get("/work-orders/{order_id}/vouchers", response_model=Page[VoucherRead], responses=problems(WorkOrderNotFound, UnknownSortKey))
async def list_order_vouchers(order_id: uuid.UUID, actor: Read, session: SessionDep, page: OrderVoucherPage) -> Page[VoucherRead]:
    """The order's vouchers, one per completion round (a reopened order has more); sort by round or posted_at."""
    rows, total = await service.list_order_vouchers(session, actor=actor, order_id=order_id, page=page)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/estates/{estate_id}/vouchers", response_model=Page[VoucherRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_estate_vouchers(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: VoucherPage,
    posted_from: Instant | None = None, posted_to: Instant | None = None,
    is_public_area: QueryFlag | None = None, technician_id: uuid.UUID | None = None, building_id: uuid.UUID | None = None,
    chargeable: QueryFlag | None = None,
) -> Page[VoucherRead]:
    """The estate's vouchers, newest first; a technician sees only his own.

    Filter by posting time [posted_from, posted_to), public area, technician, building or
    chargeable; sort by posted_at, amount or minutes_spent.
    """
    rows, total = await service.list_estate_vouchers(
        session, actor=actor, estate_id=estate_id, page=page, posted_from=posted_from, posted_to=posted_to,
        is_public_area=is_public_area, technician_id=technician_id, building_id=building_id, chargeable=chargeable)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/vouchers/{voucher_id}", response_model=VoucherRead, responses=problems(service.VoucherNotFound))
async def get_voucher(voucher_id: uuid.UUID, actor: Read, session: SessionDep) -> VoucherRead:
    """One voucher with its material lines and the metadata of its photos and signature."""
    return await service.get_voucher(session, actor=actor, voucher_id=voucher_id)


@router.post(
    "/vouchers/{voucher_id}/files", response_model=VoucherRead, status_code=status.HTTP_201_CREATED,
    responses={**problems(service.VoucherNotFound, service.PhotosWindowClosed, *FILE_ERRORS), **TOO_LARGE},
)
@idempotent(status.HTTP_201_CREATED)
async def add_voucher_photos(
    voucher_id: uuid.UUID, actor: Work, _parts: KnownFormFields, session: SessionDep, settings: SettingsDep,
    photos: Annotated[list[UploadFile], File(description="JPEG, PNG or WebP photos")],
) -> VoucherRead:
    """Add photos to one's own voucher within 24 hours of posting it (at most 10 photos in all)."""
    limit = settings.max_upload_bytes
    return await service.add_photos(session, actor=actor, voucher_id=voucher_id, photos=[await _read(p, limit) for p in photos],
                                    upload_dir=settings.upload_dir, max_upload_bytes=limit)


@router.get(
    "/vouchers/{voucher_id}/files/{file_id}", response_class=FileResponse,
    responses={**FILE_CONTENT, **problems(service.VoucherNotFound, service.VoucherFileNotFound, files.StoredFileMissing)},
)
async def get_voucher_file(voucher_id: uuid.UUID, file_id: uuid.UUID, actor: Read, session: SessionDep,
                           settings: SettingsDep) -> FileResponse:
    """The bytes of one of the voucher's photos or its signature, with the content type read when it was stored."""
    path, content_type, name = await service.open_file(session, actor=actor, voucher_id=voucher_id, file_id=file_id,
                                                      upload_dir=settings.upload_dir)
    return FileResponse(path, media_type=content_type, filename=name, content_disposition_type="inline",
                        headers={"X-Content-Type-Options": "nosniff"})
