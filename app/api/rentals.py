"""Rental entrustments (委托租賃, §7.3.14): the owners' units for rent, kept for the agency desk."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from fastapi.responses import FileResponse
from starlette import status

from app.api.deps import KnownFormFields, SessionDep, SettingsDep, page_of, require
from app.api.errors import PROBLEM, Problem, Responses, problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent
from app.domain import files
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound
from app.domain.rentals import service
from app.domain.rentals.model import Furnishing, ReasonRequired, RentalStatus
from app.domain.rentals.schemas import (
    MAX_PHOTOS,
    EntrustmentCreate,
    EntrustmentRead,
    EntrustmentUpdate,
    Let,
    Release,
    Reserve,
    Withdraw,
)
from app.domain.types import EXACT_DAY, EXACT_DECIMAL, EXACT_INT

router = APIRouter(tags=["rentals"])

Read = Annotated[Actor, Depends(require(Perm.rentals_read))]
Write = Annotated[Actor, Depends(require(Perm.rentals_write))]
RentQuery = Annotated[Decimal | None, Query(ge=0, le=Decimal("9999999.99"), max_digits=9, decimal_places=2,
                                            allow_inf_nan=False, description="Yuan per month"), EXACT_DECIMAL]
EntrustmentPage = Annotated[PageRequest, Depends(page_of(service.EntrustmentSort))]
TOO_LARGE: Responses = {status.HTTP_413_CONTENT_TOO_LARGE: {"model": Problem, "content": {PROBLEM: {}},
                                                 "description": "The request body is larger than the upload limit"}}
FILE_ERRORS = (files.UnsupportedFileType, files.UnreadableImage, files.ImageTooLarge, files.FileTooLarge, files.EmptyFile,
               service.TooManyPhotos)
BINARY = {"schema": {"type": "string", "format": "binary"}}
PHOTO_CONTENT: Responses = {200: {"description": "The photo's bytes, with its sniffed content type",
                       "content": {t.content_type: BINARY for t in sorted(files.IMAGES, key=lambda t: t.content_type)}}}
NOT_FOUND = problems(service.EntrustmentNotFound)


@router.get("/estates/{estate_id}/rental-entrustments", response_model=Page[EntrustmentRead],
            responses=problems(EstateNotFound, UnknownSortKey, service.RentRangeReversed))
async def search_entrustments(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: EntrustmentPage,
    status_: Annotated[RentalStatus | None, Query(alias="status")] = None,
    rent_min: RentQuery = None, rent_max: RentQuery = None,
    bedrooms: Annotated[int | None, Query(ge=0, le=20, description="Exactly this many bedrooms (室)"), EXACT_INT] = None,
    bedrooms_min: Annotated[int | None, Query(ge=0, le=20, description="At least this many bedrooms"), EXACT_INT] = None,
    available_by: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2099, 12, 31),
                                               description="Available on or before this day"), EXACT_DAY] = None,
    furnishing: Furnishing | None = None, unit_id: uuid.UUID | None = None, building_id: uuid.UUID | None = None,
) -> Page[EntrustmentRead]:
    """The agency's search of the estate's entrustments: status, rent range, layout, availability; cheapest first.

    Sort by asking_rent, available_from, created_at, bedrooms or status (prefix - for descending).
    """
    rows, total = await service.search(
        session, actor=actor, estate_id=estate_id, page=page, status=status_, rent_min=rent_min, rent_max=rent_max,
        bedrooms=bedrooms, bedrooms_min=bedrooms_min, available_by=available_by, furnishing=furnishing, unit_id=unit_id,
        building_id=building_id)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.post("/estates/{estate_id}/rental-entrustments", response_model=EntrustmentRead, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateNotFound, service.UnitNotInEstate, service.OwnerNotOfUnit, service.UnreadablePhone,
                                service.UnitAlreadyOnOffer))
@idempotent(status.HTTP_201_CREATED)
async def create_entrustment(estate_id: uuid.UUID, body: EntrustmentCreate, actor: Write, session: SessionDep) -> EntrustmentRead:
    """Take in an owner's entrustment of a unit for rent: asking rent, layout, furnishing, available from, how to reach them.

    The owner must be an owner of the unit in the roster; a unit is on offer (open or
    reserved) at most once at a time.
    """
    return await service.create(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/rental-entrustments/{entrustment_id}", response_model=EntrustmentRead,
            responses=read_responses(service.EntrustmentNotFound))
async def get_entrustment(entrustment_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> EntrustmentRead:
    """One entrustment with its photos and the actions its state allows."""
    return tagged(response, await service.get(session, actor=actor, entrustment_id=entrustment_id))


@router.patch("/rental-entrustments/{entrustment_id}", response_model=EntrustmentRead,
              responses=edit_responses(service.EntrustmentNotFound, IllegalTransition, service.UnreadablePhone))
async def update_entrustment(
    entrustment_id: uuid.UUID, body: EntrustmentUpdate, actor: Write, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> EntrustmentRead:
    """Change the details (rent, layout, availability, contact) while the unit is open or reserved."""
    return tagged(response, await service.update(session, actor=actor, entrustment_id=entrustment_id, data=body, expected_version=expected))


TRANSITION_ERRORS = problems(service.EntrustmentNotFound, IllegalTransition, ReasonRequired, service.UnitAlreadyOnOffer)


@router.post("/rental-entrustments/{entrustment_id}/reserve", response_model=EntrustmentRead, responses=TRANSITION_ERRORS)
@idempotent(200)
async def reserve_entrustment(entrustment_id: uuid.UUID, body: Reserve, actor: Write, session: SessionDep) -> EntrustmentRead:
    """An open unit is reserved for a prospective tenant."""
    return await service.transition(session, actor=actor, entrustment_id=entrustment_id, data=body)


@router.post("/rental-entrustments/{entrustment_id}/release", response_model=EntrustmentRead, responses=TRANSITION_ERRORS)
@idempotent(200)
async def release_entrustment(entrustment_id: uuid.UUID, body: Release, actor: Write, session: SessionDep) -> EntrustmentRead:
    """The reservation fell through: the unit is open again. Needs a reason."""
    return await service.transition(session, actor=actor, entrustment_id=entrustment_id, data=body)


@router.post("/rental-entrustments/{entrustment_id}/let", response_model=EntrustmentRead, responses=TRANSITION_ERRORS)
@idempotent(200)
async def let_entrustment(entrustment_id: uuid.UUID, body: Let, actor: Write, session: SessionDep) -> EntrustmentRead:
    """A reserved unit is let (final); the agreed rent defaults to the asking rent."""
    return await service.transition(session, actor=actor, entrustment_id=entrustment_id, data=body)


@router.post("/rental-entrustments/{entrustment_id}/withdraw", response_model=EntrustmentRead, responses=TRANSITION_ERRORS)
@idempotent(200)
async def withdraw_entrustment(entrustment_id: uuid.UUID, body: Withdraw, actor: Write, session: SessionDep) -> EntrustmentRead:
    """The owner takes the unit off the market (final). Needs a reason."""
    return await service.transition(session, actor=actor, entrustment_id=entrustment_id, data=body)


@router.post("/rental-entrustments/{entrustment_id}/photos", response_model=EntrustmentRead, status_code=status.HTTP_201_CREATED,
             responses={**problems(service.EntrustmentNotFound, IllegalTransition, *FILE_ERRORS), **TOO_LARGE})
@idempotent(status.HTTP_201_CREATED)
async def add_photos(
    entrustment_id: uuid.UUID, actor: Write, _parts: KnownFormFields, session: SessionDep, settings: SettingsDep,
    photos: Annotated[list[UploadFile], File(description=f"JPEG, PNG or WebP photos of the unit (at most {MAX_PHOTOS} in all)")],
) -> EntrustmentRead:
    """Add photos of the unit while it is open or reserved; the type is read from the bytes."""
    limit = settings.max_upload_bytes
    # One byte over the limit is enough to know it is too large; the domain names the error.
    uploads = [files.Upload(data=await p.read(limit + 1), filename=p.filename or "") for p in photos]
    return await service.add_photos(session, actor=actor, entrustment_id=entrustment_id, photos=uploads,
                                    upload_dir=settings.upload_dir, max_upload_bytes=limit)


@router.get("/rental-entrustments/{entrustment_id}/photos/{photo_id}", response_class=FileResponse,
            responses={**PHOTO_CONTENT, **problems(service.EntrustmentNotFound, service.RentalPhotoNotFound, files.StoredFileMissing)})
async def get_photo(entrustment_id: uuid.UUID, photo_id: uuid.UUID, actor: Read, session: SessionDep,
                    settings: SettingsDep) -> FileResponse:
    """The bytes of one photo, with the content type read when it was stored."""
    path, content_type, name = await service.open_photo(session, actor=actor, entrustment_id=entrustment_id, photo_id=photo_id,
                                                        upload_dir=settings.upload_dir)
    return FileResponse(path, media_type=content_type, filename=name, content_disposition_type="inline",
                        headers={"X-Content-Type-Options": "nosniff"})
