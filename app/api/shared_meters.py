"""Shared meters (公摊): a building's or the estate's meter split over its units, approved, then billed."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.fees.billing import items
from app.domain.fees.shared_meters import service, splits
from app.domain.fees.shared_meters import split as rules
from app.domain.fees.shared_meters.model import ApproverIsRecorder, DiscardNeedsReason
from app.domain.fees.shared_meters.schemas import (
    SharedMeterCreate,
    SharedMeterRead,
    SharedReadingCreate,
    SplitBilled,
    SplitDiscard,
    SplitRead,
)
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import BuildingNotInEstate, EstateNotFound

router = APIRouter(tags=["fees"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Configure = Annotated[Actor, Depends(require(Perm.fees_configure))]
Approve = Annotated[Actor, Depends(require(Perm.shared_meters_approve))]
Bill = Annotated[Actor, Depends(require(Perm.billing_run))]
MeterPage = Annotated[PageRequest, Depends(page_of(service.SharedMeterSort))]


@router.post("/estates/{estate_id}/shared-meters", response_model=SharedMeterRead, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateNotFound, BuildingNotInEstate, items.NotAMeteredItem, items.FeeItemInactive,
                                service.UnitMeterItemNotMetered, service.SharesOnlyForFixedShare,
                                service.ShareUnitNotCounted, rules.SharesDoNotSumToOne, service.SharedMeterNameTaken))
@idempotent(status.HTTP_201_CREATED)
async def create_shared_meter(estate_id: uuid.UUID, body: SharedMeterCreate, actor: Configure,
                              session: SessionDep) -> SharedMeterRead:
    """A building's (or the estate's) meter, split by area, by household or by fixed shares summing to 1."""
    return SharedMeterRead.model_validate(await service.create_meter(session, actor=actor, estate_id=estate_id, data=body))


@router.get("/estates/{estate_id}/shared-meters", response_model=Page[SharedMeterRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_shared_meters(estate_id: uuid.UUID, actor: Read, session: SessionDep, page: MeterPage) -> Page[SharedMeterRead]:
    """The estate's shared meters by name, with their fixed shares."""
    rows, total = await service.list_meters(session, actor=actor, estate_id=estate_id, page=page)
    return Page(items=[SharedMeterRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/shared-meters/{meter_id}/readings", response_model=SplitRead, status_code=status.HTTP_201_CREATED,
             responses=problems(service.SharedMeterNotFound, service.SharedMeterInactive, items.PreviousReadingNeeded,
                                items.ReadingBelowPrevious, items.NoPriceInForce, rules.UsageBelowUnitMeters,
                                rules.SharesDoNotSumToOne, rules.NoUnitsToShare, service.SplitAlreadyRecorded))
@idempotent(status.HTTP_201_CREATED)
async def record_shared_reading(meter_id: uuid.UUID, body: SharedReadingCreate, actor: Configure,
                                session: SessionDep) -> SplitRead:
    """Record the period's reading: answers with the draft split, every unit's share, to be approved
    by someone else before it is billed. previous defaults to the meter's last reading."""
    row = await service.record_reading(session, actor=actor, meter_id=meter_id, data=body)
    return SplitRead.model_validate(await splits.split_read(session, row))


@router.get("/shared-meter-splits/{split_id}", response_model=SplitRead, responses=problems(splits.SplitNotFound))
async def get_shared_meter_split(split_id: uuid.UUID, actor: Read, session: SessionDep) -> SplitRead:
    """One split with its reading and every unit's line."""
    return SplitRead.model_validate(await splits.get_split(session, actor=actor, split_id=split_id))


@router.post("/shared-meter-splits/{split_id}/approve", response_model=SplitRead,
             responses=problems(splits.SplitNotFound, IllegalTransition, ApproverIsRecorder))
@idempotent(200)
async def approve_shared_meter_split(split_id: uuid.UUID, actor: Approve, session: SessionDep) -> SplitRead:
    """Approve a draft split; whoever recorded the reading may not (409 approver-is-recorder)."""
    return SplitRead.model_validate(await splits.approve(session, actor=actor, split_id=split_id))


@router.post("/shared-meter-splits/{split_id}/discard", response_model=SplitRead,
             responses=problems(splits.SplitNotFound, IllegalTransition, DiscardNeedsReason))
@idempotent(200)
async def discard_shared_meter_split(split_id: uuid.UUID, body: SplitDiscard, actor: Approve,
                                     session: SessionDep) -> SplitRead:
    """Discard a draft split (a misread meter); the period may then be read again."""
    return SplitRead.model_validate(await splits.discard(session, actor=actor, split_id=split_id, reason=body.reason))


@router.post("/shared-meter-splits/{split_id}/bill", response_model=SplitBilled,
             responses=problems(splits.SplitNotFound, IllegalTransition))
@idempotent(200)
async def bill_shared_meter_split(split_id: uuid.UUID, actor: Bill, session: SessionDep) -> SplitBilled:
    """Bill an approved split: one charge per unit with a share. Billed already: nothing new, created=0."""
    data, created = await splits.bill(session, actor=actor, split_id=split_id)
    return SplitBilled(split=SplitRead.model_validate(data), created=created)
