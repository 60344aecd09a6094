"""Service requests (服務登記), repair categories and the phone scripts of a call."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, tagged
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound, UnitNotInEstate, UnreadablePhone
from app.domain.repairs import numbers
from app.domain.repairs.intake import reading as request_reading
from app.domain.repairs.intake import scripts
from app.domain.repairs.intake import service as requests
from app.domain.repairs.intake import settings as repair_settings
from app.domain.repairs.intake.model import ScriptKey
from app.domain.repairs.intake.schemas import (
    CategoryCode,
    PhoneScriptRead,
    PhoneScriptRendered,
    PhoneScriptRenderRequest,
    PhoneScriptUpdate,
    RepairCategoryRead,
    RepairCategoryWrite,
    ServiceRequestClose,
    ServiceRequestCreate,
    ServiceRequestRead,
)
from app.domain.repairs.model import RequestChannel, RequestKind, RequestStatus
from app.domain.types import Instant, QueryFlag

router = APIRouter(tags=["service requests"])

Read = Annotated[Actor, Depends(require(Perm.requests_read))]
Write = Annotated[Actor, Depends(require(Perm.requests_write))]
Configure = Annotated[Actor, Depends(require(Perm.repairs_configure))]
Code = Annotated[str | None, Query(max_length=40, pattern=r"^[^\x00]*$")]
NumberSearch = Annotated[str | None, Query(max_length=64, pattern=numbers.SEARCH_PATTERN,
                                           description="The whole number (QS-BX-2026-000045) or its trailing digits (45, 000045)")]
ServiceRequestPage = Annotated[PageRequest, Depends(page_of(request_reading.ServiceRequestSort))]
RepairCategoryPage = Annotated[PageRequest, Depends(page_of(repair_settings.RepairCategorySort))]


# --- service requests ------------------------------------------------------------------

@router.post("/estates/{estate_id}/service-requests", response_model=ServiceRequestRead, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateNotFound, repair_settings.UnknownRepairCategory, requests.CategoryRequired,
                                UnitNotInEstate, UnreadablePhone, requests.NeedUnitOrLocation))
@idempotent(status.HTTP_201_CREATED)
async def create_service_request(estate_id: uuid.UUID, body: ServiceRequestCreate, actor: Write, session: SessionDep) -> ServiceRequestRead:
    """Register a request from the phone, a walk-in or a patrol (§7.3.4, §7.3.11).

    A number that matches an owner links the owner (and their only unit when none is named).
    A repair gets its work order (pending_dispatch) at once. `read_back` is the §7.3.5
    confirmation to read to the caller.
    """
    return await requests.create_request(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/service-requests", response_model=Page[ServiceRequestRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_service_requests(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: ServiceRequestPage,
    status: RequestStatus | None = None, kind: RequestKind | None = None, channel: RequestChannel | None = None, category: Code = None,
    unit_id: uuid.UUID | None = None, owner_id: uuid.UUID | None = None,
    created_from: Instant | None = None, created_to: Instant | None = None,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="A fragment of the description")] = None,
    number: NumberSearch = None,
) -> Page[ServiceRequestRead]:
    """The estate's service register, newest first; technicians see the requests they reported or work on."""
    rows, total = await request_reading.list_requests(
        session, actor=actor, estate_id=estate_id, page=page, status=status, kind=kind, channel=channel, category=category,
        unit_id=unit_id, owner_id=owner_id, created_from=created_from, created_to=created_to, q=q,
        number=number,
    )
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/service-requests/{request_id}", response_model=ServiceRequestRead, responses=problems(request_reading.ServiceRequestNotFound))
async def get_service_request(request_id: uuid.UUID, actor: Read, session: SessionDep) -> ServiceRequestRead:
    """One service request with its work order's id and state and the read-back sentence."""
    return await request_reading.get_request(session, actor=actor, request_id=request_id)


@router.post("/service-requests/{request_id}/close", response_model=ServiceRequestRead,
             responses=problems(request_reading.ServiceRequestNotFound, requests.RequestAlreadyClosed, requests.OrderAlreadyUnderway))
@idempotent(200)
async def close_service_request(request_id: uuid.UUID, body: ServiceRequestClose, actor: Write, session: SessionDep) -> ServiceRequestRead:
    """Close a request at the desk with a note: an enquiry answered, or a repair withdrawn while its
    order still waits for dispatch (the order is cancelled with the note as reason)."""
    return await requests.close_request(session, actor=actor, request_id=request_id, note=body.note)


# --- repair categories -----------------------------------------------------------------

@router.get("/estates/{estate_id}/repair-categories", response_model=Page[RepairCategoryRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_repair_categories(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: RepairCategoryPage, active: QueryFlag | None = None,
) -> Page[RepairCategoryRead]:
    """The estate's repair categories in the desk's order; an estate that set none has 水暖, 電氣, 門窗, 公共區域, 其他."""
    rows, total = await repair_settings.list_categories(session, actor=actor, estate_id=estate_id, page=page, active=active)
    return Page(items=[RepairCategoryRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.put("/estates/{estate_id}/repair-categories/{code}", response_model=RepairCategoryRead,
            responses=edit_responses(EstateNotFound))
async def put_repair_category(
    estate_id: uuid.UUID, code: Annotated[CategoryCode, Path(description="lower_snake_case: plumbing")],
    body: RepairCategoryWrite, actor: Configure, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> RepairCategoryRead:
    """Add or change a repair category; inactive ones stay on old requests but take no new ones.
    A category not stored yet is at version 0: If-Match "0" adds it only if nobody has meanwhile."""
    row = await repair_settings.put_category(session, actor=actor, estate_id=estate_id, code=code, data=body, expected_version=expected)
    return tagged(response, RepairCategoryRead.model_validate(row))


# --- phone scripts ---------------------------------------------------------------------

@router.get("/estates/{estate_id}/phone-scripts", response_model=list[PhoneScriptRead], responses=problems(EstateNotFound))
async def list_phone_scripts(estate_id: uuid.UUID, actor: Read, session: SessionDep) -> list[PhoneScriptRead]:
    """The four phrases of a call (§7.3.3 greeting, §7.3.5 confirmation, §7.3.6 closing, §7.3.7 technician busy)."""
    return await repair_settings.list_scripts(session, actor=actor, estate_id=estate_id)


@router.put("/estates/{estate_id}/phone-scripts/{key}", response_model=PhoneScriptRead,
            responses=edit_responses(EstateNotFound, scripts.UnknownPlaceholder, scripts.MalformedTemplate))
async def put_phone_script(estate_id: uuid.UUID, key: ScriptKey, body: PhoneScriptUpdate, actor: Configure,
                           session: SessionDep, expected: ExpectedVersion, response: Response) -> PhoneScriptRead:
    """Reword one script for the estate; placeholders must be ones the script knows ({caller}, {office_name} ...)."""
    return tagged(response, await repair_settings.put_script(session, actor=actor, estate_id=estate_id, key=key, text=body.text,
                                                             expected_version=expected))


@router.post("/estates/{estate_id}/phone-scripts/{key}/render", response_model=PhoneScriptRendered,
             responses=problems(EstateNotFound, UnreadablePhone, repair_settings.OwnerNotInEstate,
                                repair_settings.TechnicianNotInEstate, requests.RequestNotInEstate))
async def render_phone_script(
    estate_id: uuid.UUID, key: ScriptKey, body: PhoneScriptRenderRequest, actor: Read, session: SessionDep,
) -> PhoneScriptRendered:
    """The script as the receptionist says it: the office name, the caller as 王先生 (by phone or owner),
    the request's address and appointment, and where the technician is working now."""
    return await requests.render_script(session, actor=actor, estate_id=estate_id, key=key, data=body)
