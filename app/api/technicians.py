"""Technicians: who is free for a window (and where each is now), and their working hours."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api.deps import SessionDep, SettingsDep, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.pagination import MAX_PAGE_SIZE
from app.domain.registry.errors import EstateNotFound
from app.domain.repairs.orders import technicians
from app.domain.repairs.orders.schemas import AvailabilityRead, WorkingHours, WorkingHoursRead
from app.domain.repairs.orders.technicians import TechnicianNotFound, WindowOutOfOrder
from app.domain.repairs.sync import service as sync
from app.domain.repairs.sync.cursor import BadSyncCursor
from app.domain.repairs.sync.schemas import TechnicianSync
from app.domain.types import EXACT_INT, Instant

router = APIRouter(tags=["technicians"])

Read = Annotated[Actor, Depends(require(Perm.requests_read))]
Desk = Annotated[Actor, Depends(require(Perm.orders_dispatch))]
Configure = Annotated[Actor, Depends(require(Perm.repairs_configure))]
Technician = Annotated[Actor, Depends(require(Perm.orders_work))]
SyncCursor = Annotated[str | None, Query(
    min_length=1, max_length=20000, pattern=r"^[A-Za-z0-9_-]+$",
    description="The `cursor` of the previous sync, unchanged; left out: a full snapshot")]
SyncLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Stock items per page (the rest comes whole)"), EXACT_INT]
EstateQuery = Annotated[uuid.UUID, Query(description="The estate whose hours are meant")]


@router.get("/estates/{estate_id}/technicians/availability", response_model=AvailabilityRead,
            responses=problems(EstateNotFound, WindowOutOfOrder))
async def technician_availability(
    estate_id: uuid.UUID, actor: Desk, session: SessionDep, start: Instant, end: Instant,
) -> AvailabilityRead:
    """Every technician of the estate for the window [start, end): free or not (outside hours, booked),
    where he is working now and his next booking. Free technicians first."""
    return await technicians.availability(session, actor=actor, estate_id=estate_id, start=start, end=end)


@router.get("/technicians/{user_id}/working-hours", response_model=WorkingHoursRead,
            responses=read_responses(EstateNotFound, TechnicianNotFound))
async def get_working_hours(
    user_id: uuid.UUID, estate_id: EstateQuery, actor: Read, session: SessionDep, response: Response,
) -> WorkingHoursRead:
    """The technician's working hours in the estate: his own, or the estate's office hours by default."""
    return tagged(response, await technicians.get_hours(session, actor=actor, estate_id=estate_id, user_id=user_id))


@router.put("/technicians/{user_id}/working-hours", response_model=WorkingHoursRead,
            responses=edit_responses(EstateNotFound, TechnicianNotFound))
async def put_working_hours(
    user_id: uuid.UUID, estate_id: EstateQuery, body: WorkingHours, actor: Configure, session: SessionDep,
    expected: ExpectedVersion, response: Response,
) -> WorkingHoursRead:
    """Set the technician's own hours in the estate (local times), overriding the office hours."""
    return tagged(response, await technicians.set_hours(session, actor=actor, estate_id=estate_id, user_id=user_id, data=body,
                                                        expected_version=expected))


@router.get("/technicians/me/sync", response_model=TechnicianSync, responses=problems(BadSyncCursor))
async def sync_technician(
    actor: Technician, session: SessionDep, settings: SettingsDep, since: SyncCursor = None, limit: SyncLimit = MAX_PAGE_SIZE,
) -> TechnicianSync:
    """The signed-in technician's offline copy: his open orders (awaiting his time, dispatched, in
    progress) with the units and owners they name, and his estates' repair categories and stock items.

    Without `since`, all of it (`full`: drop the old copy first). With the previous answer's
    `cursor`, what changed since, and `tombstones` for what left his view: an order reassigned,
    returned to the desk, cancelled or completed; a unit or owner none of his open orders names
    any more; a category or stock item out of use. A change committed while a sync is read comes
    in the next one, never lost (a few records may come twice: apply them as upserts). Stock items
    come `limit` at a time: while `more`, call again at once with the new `cursor`.
    """
    return await sync.sync(session, actor=actor, since=since, key=settings.signing_secret.encode(), limit=limit)
