"""The owner roster (業主名冊): jurisdictions, buildings, units, owners, and the caller lookup."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry import errors as e
from app.domain.registry import lookup, owners, service, units
from app.domain.registry.schemas import (
    BuildingCreate,
    BuildingRead,
    BuildingUpdate,
    CallerLookup,
    JurisdictionCreate,
    JurisdictionRead,
    JurisdictionUpdate,
    OwnerCreate,
    OwnerRead,
    OwnerUpdate,
    PhoneCreate,
    UnitCreate,
    UnitLink,
    UnitRead,
    UnitUpdate,
)
from app.domain.types import EXACT_INT, QueryFlag

router = APIRouter(tags=["registry"])

Read = Annotated[Actor, Depends(require(Perm.registry_read))]
Write = Annotated[Actor, Depends(require(Perm.registry_write))]
Fragment = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="A fragment of the name")]
JurisdictionPage = Annotated[PageRequest, Depends(page_of(service.JurisdictionSort))]
BuildingPage = Annotated[PageRequest, Depends(page_of(service.BuildingSort))]
UnitPage = Annotated[PageRequest, Depends(page_of(units.UnitSort))]
OwnerPage = Annotated[PageRequest, Depends(page_of(lookup.OwnerSort))]
CREATED = status.HTTP_201_CREATED


# --- jurisdictions ---------------------------------------------------------------------

@router.get("/estates/{estate_id}/jurisdictions", response_model=Page[JurisdictionRead],
            responses=problems(e.EstateNotFound, UnknownSortKey))
async def list_jurisdictions(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: JurisdictionPage, manager_id: uuid.UUID | None = None, q: Fragment = None,
) -> Page[JurisdictionRead]:
    """The estate's jurisdictions (轄區); filter by manager or a name fragment."""
    rows, total = await service.list_jurisdictions(session, actor=actor, estate_id=estate_id, page=page, manager_id=manager_id, q=q)
    return Page(items=[JurisdictionRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/estates/{estate_id}/jurisdictions", response_model=JurisdictionRead, status_code=CREATED,
             responses=problems(e.EstateNotFound, e.JurisdictionsNeedSupervisor, e.JurisdictionNameTaken, e.NotAManagerOfEstate))
@idempotent(CREATED)
async def create_jurisdiction(estate_id: uuid.UUID, body: JurisdictionCreate, actor: Write, session: SessionDep) -> JurisdictionRead:
    """Create a jurisdiction, optionally with its manager. Supervisors and administrators only."""
    return JurisdictionRead.model_validate(await service.create_jurisdiction(session, actor=actor, estate_id=estate_id, data=body))


@router.get("/jurisdictions/{jurisdiction_id}", response_model=JurisdictionRead, responses=read_responses(e.JurisdictionNotFound))
async def get_jurisdiction(jurisdiction_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> JurisdictionRead:
    """One jurisdiction; its buildings are listed with GET /estates/{estate_id}/buildings?jurisdiction_id=."""
    row = await service.get_jurisdiction(session, actor=actor, jurisdiction_id=jurisdiction_id)
    return tagged(response, JurisdictionRead.model_validate(row))


@router.patch("/jurisdictions/{jurisdiction_id}", response_model=JurisdictionRead, responses=edit_responses(
    e.JurisdictionNotFound, e.JurisdictionsNeedSupervisor, e.JurisdictionNameTaken, e.NotAManagerOfEstate))
async def update_jurisdiction(
    jurisdiction_id: uuid.UUID, body: JurisdictionUpdate, actor: Write, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> JurisdictionRead:
    """Rename a jurisdiction or hand it to another manager (null: none). Supervisors and administrators only."""
    row = await service.update_jurisdiction(session, actor=actor, jurisdiction_id=jurisdiction_id, data=body, expected_version=expected)
    return tagged(response, JurisdictionRead.model_validate(row))


# --- buildings -------------------------------------------------------------------------

@router.get("/estates/{estate_id}/buildings", response_model=Page[BuildingRead], responses=problems(e.EstateNotFound, UnknownSortKey))
async def list_buildings(
    estate_id: uuid.UUID,
    actor: Read,
    session: SessionDep,
    page: BuildingPage,
    jurisdiction_id: uuid.UUID | None = None,
    q: Fragment = None,
) -> Page[BuildingRead]:
    """The estate's buildings (樓號), by number; filter by jurisdiction or a name fragment."""
    rows, total = await service.list_buildings(session, actor=actor, estate_id=estate_id, page=page, jurisdiction_id=jurisdiction_id, q=q)
    return Page(items=[BuildingRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/estates/{estate_id}/buildings",
    response_model=BuildingRead,
    status_code=CREATED,
    responses=problems(e.EstateNotFound, e.BuildingNameTaken, e.JurisdictionNotInEstate),
)
@idempotent(CREATED)
async def create_building(estate_id: uuid.UUID, body: BuildingCreate, actor: Write, session: SessionDep) -> BuildingRead:
    """Add a building; its name is unique in the estate."""
    return BuildingRead.model_validate(await service.create_building(session, actor=actor, estate_id=estate_id, data=body))


@router.get("/buildings/{building_id}", response_model=BuildingRead, responses=read_responses(e.BuildingNotFound))
async def get_building(building_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> BuildingRead:
    """One building."""
    return tagged(response, BuildingRead.model_validate(await service.get_building(session, actor=actor, building_id=building_id)))


@router.patch(
    "/buildings/{building_id}",
    response_model=BuildingRead,
    responses=edit_responses(e.BuildingNotFound, e.BuildingNameTaken, e.JurisdictionNotInEstate),
)
async def update_building(
    building_id: uuid.UUID, body: BuildingUpdate, actor: Write, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> BuildingRead:
    """Rename or renumber a building, or assign it to a jurisdiction (null: none)."""
    row = await service.update_building(session, actor=actor, building_id=building_id, data=body, expected_version=expected)
    return tagged(response, BuildingRead.model_validate(row))


# --- units -----------------------------------------------------------------------------


@router.get("/estates/{estate_id}/units", response_model=Page[UnitRead], responses=problems(e.EstateNotFound, UnknownSortKey))
async def list_units(
    estate_id: uuid.UUID,
    actor: Read,
    session: SessionDep,
    page: UnitPage,
    building_id: uuid.UUID | None = None,
    is_vacant: QueryFlag | None = None,
    is_public: QueryFlag | None = None,
    floor: Annotated[int | None, Query(ge=-20, le=300), EXACT_INT] = None,
    q: Annotated[str | None, Query(max_length=20, pattern=r"^[^\x00]*$", description="A fragment of the room number")] = None,
) -> Page[UnitRead]:
    """The estate's units by building, entrance and room; filter by building, floor, vacancy, common parts or room."""
    rows, total = await units.list_units(
        session,
        actor=actor,
        estate_id=estate_id,
        page=page,
        building_id=building_id,
        is_vacant=is_vacant,
        is_public=is_public,
        floor=floor,
        q=q,
    )
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/estates/{estate_id}/units",
    response_model=UnitRead,
    status_code=CREATED,
    responses=problems(e.EstateNotFound, e.UnitNumberTaken, e.BuildingNotInEstate),
)
@idempotent(CREATED)
async def create_unit(estate_id: uuid.UUID, body: UnitCreate, actor: Write, session: SessionDep) -> UnitRead:
    """Add a unit to one of the estate's buildings; room numbers are unique per building and entrance."""
    return await units.create_unit(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/units/{unit_id}", response_model=UnitRead, responses=read_responses(e.UnitNotFound))
async def get_unit(unit_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> UnitRead:
    """One unit, with its building and label (8号楼2单元301)."""
    return tagged(response, await units.get_unit(session, actor=actor, unit_id=unit_id))


@router.patch("/units/{unit_id}", response_model=UnitRead, responses=edit_responses(e.UnitNotFound, e.UnitNumberTaken))
async def update_unit(
    unit_id: uuid.UUID, body: UnitUpdate, actor: Write, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> UnitRead:
    """Correct a unit's entrance, room, floor, area, flags or note."""
    return tagged(response, await units.update_unit(session, actor=actor, unit_id=unit_id, data=body, expected_version=expected))


# --- owners ----------------------------------------------------------------------------


@router.get(
    "/estates/{estate_id}/owners", response_model=Page[OwnerRead], responses=problems(e.EstateNotFound, e.UnreadableUnitRef, UnknownSortKey)
)
async def list_owners(
    estate_id: uuid.UUID,
    actor: Read,
    session: SessionDep,
    page: OwnerPage,
    q: Fragment = None,
    unit: Annotated[str | None, Query(max_length=40, pattern=r"^[^\x00]*$", description="8-2-301, 8-301 or 8号楼2单元301")] = None,
    building_id: uuid.UUID | None = None,
) -> Page[OwnerRead]:
    """Search the estate's owners by name fragment (王) or unit (8-2-301), with their phones and units."""
    rows, total = await lookup.list_owners(session, actor=actor, estate_id=estate_id, page=page, q=q, unit=unit, building_id=building_id)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/estates/{estate_id}/owners",
    response_model=OwnerRead,
    status_code=CREATED,
    responses=problems(e.EstateNotFound, e.UnreadablePhone, e.UnitNotInEstate),
)
@idempotent(CREATED)
async def create_owner(estate_id: uuid.UUID, body: OwnerCreate, actor: Write, session: SessionDep) -> OwnerRead:
    """Register an owner with phones (as typed) and units; the surname is derived when left out."""
    return await owners.create_owner(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/owners/{owner_id}", response_model=OwnerRead, responses=read_responses(e.OwnerNotFound))
async def get_owner(owner_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> OwnerRead:
    """One owner with phones and units."""
    return tagged(response, await owners.get_owner(session, actor=actor, owner_id=owner_id))


@router.patch("/owners/{owner_id}", response_model=OwnerRead, responses=edit_responses(e.OwnerNotFound))
async def update_owner(
    owner_id: uuid.UUID, body: OwnerUpdate, actor: Write, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> OwnerRead:
    """Correct an owner's name, surname, title (先生/女士 or null) or note."""
    return tagged(response, await owners.update_owner(session, actor=actor, owner_id=owner_id, data=body, expected_version=expected))


@router.post(
    "/owners/{owner_id}/units",
    response_model=OwnerRead,
    status_code=CREATED,
    responses=problems(e.OwnerNotFound, e.UnitNotInEstate, e.UnitAlreadyLinked),
)
@idempotent(CREATED)
async def link_unit(owner_id: uuid.UUID, body: UnitLink, actor: Write, session: SessionDep) -> OwnerRead:
    """Link the owner to a unit of their estate (another unit, or as co-owner)."""
    return await owners.link_unit(session, actor=actor, owner_id=owner_id, data=body)


@router.delete("/owners/{owner_id}/units/{unit_id}", response_model=OwnerRead, responses=problems(e.OwnerNotFound, e.UnitNotLinked))
async def unlink_unit(owner_id: uuid.UUID, unit_id: uuid.UUID, actor: Write, session: SessionDep) -> OwnerRead:
    """Remove the owner's link to a unit (sold, moved); the unit itself stays."""
    return await owners.unlink_unit(session, actor=actor, owner_id=owner_id, unit_id=unit_id)


@router.post(
    "/owners/{owner_id}/phones",
    response_model=OwnerRead,
    status_code=CREATED,
    responses=problems(e.OwnerNotFound, e.UnreadablePhone, e.PhoneAlreadyListed),
)
@idempotent(CREATED)
async def add_phone(owner_id: uuid.UUID, body: PhoneCreate, actor: Write, session: SessionDep) -> OwnerRead:
    """Add a phone number, as typed; it is stored as the digits a caller id shows."""
    return await owners.add_phone(session, actor=actor, owner_id=owner_id, raw=body.phone)


@router.delete("/owners/{owner_id}/phones/{phone_id}", response_model=OwnerRead, responses=problems(e.OwnerNotFound, e.PhoneNotFound))
async def remove_phone(owner_id: uuid.UUID, phone_id: uuid.UUID, actor: Write, session: SessionDep) -> OwnerRead:
    """Remove one of the owner's phone numbers."""
    return await owners.remove_phone(session, actor=actor, owner_id=owner_id, phone_id=phone_id)


# --- caller lookup ---------------------------------------------------------------------

Phone = Annotated[
    str,
    Query(min_length=1, max_length=60, pattern=r"^[^\x00]*$", description="As typed: 133 5173 7459, +86 133-5173-7459, full-width digits"),
]


@router.get("/estates/{estate_id}/callers", response_model=CallerLookup, responses=problems(e.EstateNotFound, e.UnreadablePhone))
async def find_callers_in_estate(estate_id: uuid.UUID, phone: Phone, actor: Read, session: SessionDep) -> CallerLookup:
    """Who is calling: the estate's owners with this phone, their units, open requests and arrears, in one call."""
    return await lookup.find_callers(session, actor=actor, phone=phone, estate_id=estate_id)


@router.get("/callers", response_model=CallerLookup, responses=problems(e.UnreadablePhone))
async def find_callers(phone: Phone, actor: Read, session: SessionDep) -> CallerLookup:
    """Who is calling, across all the caller's estates: owners with this phone, their units, open requests and arrears."""
    return await lookup.find_callers(session, actor=actor, phone=phone, estate_id=None)
