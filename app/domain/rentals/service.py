"""Rental entrustments (委托租賃, §7.3.14): taking them in, keeping them current, the agency's search."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import files
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, utcnow
from app.domain.errors import AlreadyExists, Invalid, NotFound
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.registry.model import Building, Estate, Owner, Unit, UnitOwner
from app.domain.registry.names import unit_label
from app.domain.registry.phones import normalize_phone
from app.domain.registry.script import in_script
from app.domain.rentals.model import Furnishing, RentalEntrustment, RentalPhoto, RentalStatus
from app.domain.rentals.schemas import (
    MAX_PHOTOS,
    EntrustmentCreate,
    EntrustmentRead,
    EntrustmentUpdate,
    Let,
    Release,
    RentalPhotoRead,
    Reserve,
    Withdraw,
)
from app.domain.visibility import Visible, load_visible


class EntrustmentNotFound(NotFound):
    title = "Rental entrustment not found"
    title_zh = "未找到该租赁委托"


ENTRUSTMENT = Visible(model=RentalEntrustment, missing=EntrustmentNotFound)


class RentalPhotoNotFound(NotFound):
    title = "Photo not found"
    title_zh = "未找到该照片"


class UnitNotInEstate(Invalid):
    title = "unit_id names no private unit of this estate"
    title_zh = "unit_id 不是本小区的业主房屋"


class OwnerNotOfUnit(Invalid):
    title = "owner_id must be an owner of the unit in the roster"
    title_zh = "owner_id 必须是名册中该房屋的业主"


class UnreadablePhone(Invalid):
    title = "The contact phone is not a Chinese mobile or landline number"
    title_zh = "联系电话不是中国大陆的手机或固定电话号码"


class UnitAlreadyOnOffer(AlreadyExists):
    title = "The unit is already entrusted for rent (open or reserved)"
    title_zh = "该房屋已在委托出租中（挂牌或已预订）"


class TooManyPhotos(Invalid):
    title = f"An entrustment holds at most {MAX_PHOTOS} photos"
    title_zh = "一个租赁委托最多 12 张照片"


class RentRangeReversed(Invalid):
    title = "rent_min is above rent_max"
    title_zh = "rent_min 高于 rent_max"


# --- reading ---------------------------------------------------------------------------

async def _reads(session: AsyncSession, rows: Sequence[RentalEntrustment]) -> list[EntrustmentRead]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    extra = {x.id: x for x in (await session.execute(
        select(RentalEntrustment.id, Unit.entrance, Unit.number, Unit.area, Building.number.label("building_number"),
               Building.name.label("building_name"), Owner.full_name, Estate.script)
        .join(Unit, Unit.id == RentalEntrustment.unit_id).join(Building, Building.id == Unit.building_id)
        .join(Estate, Estate.id == RentalEntrustment.estate_id)
        .join(Owner, Owner.id == RentalEntrustment.owner_id).where(RentalEntrustment.id.in_(ids))
    )).all()}
    photos = (await session.execute(select(RentalPhoto).where(RentalPhoto.entrustment_id.in_(ids))
                                    .order_by(RentalPhoto.created_at, RentalPhoto.id))).scalars().all()
    own = [k for k in EntrustmentRead.model_fields if k in RentalEntrustment.model_fields]
    out = []
    for r in rows:
        x = extra[r.id]
        out.append(EntrustmentRead.model_validate({
            **{k: getattr(r, k) for k in own},
            "unit_label": unit_label(building_number=x.building_number, building_name=x.building_name, entrance=x.entrance,
                                     number=x.number, script=x.script),
            "area": x.area, "owner_name": x.full_name, "layout": in_script(f"{r.bedrooms}室{r.living_rooms}廳{r.bathrooms}衛", x.script),
            "photos": [RentalPhotoRead.model_validate(p, from_attributes=True) for p in photos if p.entrustment_id == r.id],
            "allowed_actions": [a for a in r.allowed_actions() if a != "edit"],
        }))
    return out


async def get(session: AsyncSession, *, actor: Actor, entrustment_id: uuid.UUID) -> EntrustmentRead:
    [read] = await _reads(session, [await load_visible(session, ENTRUSTMENT, entrustment_id, actor=actor)])
    return read


class EntrustmentSort(StrEnum):
    """The keys rental entrustments sort by."""

    asking_rent = "asking_rent"
    available_from = "available_from"
    created_at = "created_at"
    bedrooms = "bedrooms"
    status = "status"


async def search(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, status: RentalStatus | None = None,
    rent_min: Decimal | None = None, rent_max: Decimal | None = None, bedrooms: int | None = None,
    bedrooms_min: int | None = None, available_by: date | None = None, furnishing: Furnishing | None = None,
    unit_id: uuid.UUID | None = None, building_id: uuid.UUID | None = None,
) -> tuple[list[EntrustmentRead], int]:
    """The agency's search: cheapest first by default."""
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    if rent_min is not None and rent_max is not None and rent_min > rent_max:
        raise RentRangeReversed(field="rent_min")
    r = RentalEntrustment
    stmt = select(r).where(r.estate_id == estate_id)
    filters: list[tuple[Any, Callable[[Any], ColumnElement[bool]]]] = [
               (status, lambda v: r.status == v), (rent_min, lambda v: r.asking_rent >= v),
               (rent_max, lambda v: r.asking_rent <= v), (bedrooms, lambda v: r.bedrooms == v),
               (bedrooms_min, lambda v: r.bedrooms >= v), (available_by, lambda v: r.available_from <= v),
               (furnishing, lambda v: r.furnishing == v), (unit_id, lambda v: r.unit_id == v),
               (building_id, lambda v: r.unit_id.in_(select(Unit.id).where(Unit.building_id == v)))]
    for value, where in filters:
        if value is not None:
            stmt = stmt.where(where(value))
    sortable = {
        EntrustmentSort.asking_rent: r.asking_rent, EntrustmentSort.available_from: r.available_from,
        EntrustmentSort.created_at: r.created_at, EntrustmentSort.bedrooms: r.bedrooms,
        EntrustmentSort.status: r.status,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[r.asking_rent, r.created_at, r.id])
    return await _reads(session, rows), total


# --- changing --------------------------------------------------------------------------

def _phone(raw: str) -> str:
    if not raw:
        return ""
    phone = normalize_phone(raw)
    if phone is None:
        raise UnreadablePhone(field="contact_phone")
    return phone


async def _check_unit_owner(session: AsyncSession, *, estate_id: uuid.UUID, unit_id: uuid.UUID, owner_id: uuid.UUID) -> None:
    unit = await session.get(Unit, unit_id)
    if unit is None or unit.estate_id != estate_id or unit.is_public:
        raise UnitNotInEstate(field="unit_id")
    link = await session.execute(select(UnitOwner.id).where(UnitOwner.unit_id == unit_id, UnitOwner.owner_id == owner_id))
    if link.first() is None:
        raise OwnerNotOfUnit(field="owner_id")


async def create(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: EntrustmentCreate) -> EntrustmentRead:
    """Take in an owner's entrustment; the unit must not be on offer already."""
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    await _check_unit_owner(session, estate_id=estate_id, unit_id=data.unit_id, owner_id=data.owner_id)
    fields = data.model_dump()
    fields["contact_phone"] = _phone(data.contact_phone)
    row = RentalEntrustment(estate_id=estate_id, taken_by=actor.id, **fields)
    session.add(row)
    await flush_unique(session, UnitAlreadyOnOffer(field="unit_id"))
    await audit.record(session, actor=actor, action="rental_entrustment.create", row=row)
    return await get(session, actor=actor, entrustment_id=row.id)


async def update(
    session: AsyncSession, *, actor: Actor, entrustment_id: uuid.UUID, data: EntrustmentUpdate, expected_version: int | None = None,
) -> EntrustmentRead:
    row = await load_visible(session, ENTRUSTMENT, entrustment_id, actor=actor, lock=True, expected_version=expected_version)
    # A null sent for a field means "leave it": every column here is required.
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "contact_phone" in changes:
        changes["contact_phone"] = _phone(changes["contact_phone"])
    await audit.apply(session, actor=actor, row=row, action="edit", audit_action="rental_entrustment.update",
                      changes=changes, at=utcnow())
    return await get(session, actor=actor, entrustment_id=row.id)


async def transition(session: AsyncSession, *, actor: Actor, entrustment_id: uuid.UUID,
                     data: Reserve | Release | Let | Withdraw, now: datetime | None = None) -> EntrustmentRead:
    """reserve, release (the reservation fell through), let, withdraw: each checked against the table and audited."""
    row = await load_visible(session, ENTRUSTMENT, entrustment_id, actor=actor, lock=True)
    verb: tuple[str, dict[str, Any]]
    if isinstance(data, Reserve):
        verb = "reserve", {"reserved_for": data.reserved_for}
    elif isinstance(data, Release):
        verb = "release", {"reason": data.reason}
    elif isinstance(data, Let):
        verb = "let", {"agreed_rent": data.agreed_rent}
    else:
        verb = "withdraw", {"reason": data.reason}
    # Releasing puts the unit back on offer: the partial unique index has the last word.
    await audit.apply(session, actor=actor, row=row, action=verb[0], at=now or utcnow(),
                      unique_error=UnitAlreadyOnOffer(field="unit_id"), **verb[1])
    return await get(session, actor=actor, entrustment_id=row.id)


# --- photos ----------------------------------------------------------------------------

async def add_photos(session: AsyncSession, *, actor: Actor, entrustment_id: uuid.UUID, photos: list[files.Upload],
                     upload_dir: Path, max_upload_bytes: int) -> EntrustmentRead:
    """Store photos of the unit (JPEG, PNG, WebP by their bytes); the files go again if the request fails."""
    row = await load_visible(session, ENTRUSTMENT, entrustment_id, actor=actor, lock=True)
    row.edit({}, at=utcnow())  # photos of a let or withdrawn unit are history; refuse them like any edit
    existing = (await session.execute(select(func.count()).select_from(RentalPhoto)
                                      .where(RentalPhoto.entrustment_id == row.id))).scalar_one()
    if not photos or existing + len(photos) > MAX_PHOTOS:
        raise TooManyPhotos(field="photos", max_photos=MAX_PHOTOS, already=existing)
    checked = [await files.check_off_loop(p, max_bytes=max_upload_bytes, accepted=files.IMAGES, field=f"photos.{i}")
               for i, p in enumerate(photos)]
    today = utcnow().date()
    stored = [(RentalPhoto(estate_id=row.estate_id, entrustment_id=row.id, content_type=f.type.content_type, size_bytes=f.size,
                           sha256=f.sha256, original_filename=f.original_filename,
                           path=files.new_relative_path(estate_id=row.estate_id, day=today, ext=f.type.ext)), f.data)
              for f in checked]
    session.add_all([p for p, _ in stored])
    await session.flush()
    for photo, _ in stored:
        await audit.record(session, actor=actor, action="create", row=photo)
    await session.flush()
    written = files.write_all(upload_dir, [(p.path, data) for p, data in stored])
    files.remove_on_rollback(session, written)
    return await get(session, actor=actor, entrustment_id=row.id)


async def open_photo(session: AsyncSession, *, actor: Actor, entrustment_id: uuid.UUID, photo_id: uuid.UUID,
                     upload_dir: Path) -> tuple[Path, str, str]:
    """(path on disk, content type, a download name of our own) of one of the entrustment's photos."""
    row = await load_visible(session, ENTRUSTMENT, entrustment_id, actor=actor)
    photo = await session.get(RentalPhoto, photo_id)
    if photo is None or photo.entrustment_id != row.id:
        raise RentalPhotoNotFound()
    path = files.resolve(upload_dir, photo.path)
    if not path.is_file():
        raise files.StoredFileMissing()
    return path, photo.content_type, f"rental-{row.id}-{photo.id}{path.suffix}"
