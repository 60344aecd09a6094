"""The company and its estates (小區 / 管理處): name, office name for the phone greeting, time zone, office hours."""
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
from app.domain.registry import company as company_service
from app.domain.registry import service
from app.domain.registry.company import CompanyNotFound, CompanyRead, CompanyUpdate, CreditCodeTaken
from app.domain.registry.errors import EstateClosed, EstateCodeTaken, EstateNotFound, OfficeHoursOutOfOrder
from app.domain.registry.schemas import EstateClose, EstateCreate, EstateRead, EstateUpdate

router = APIRouter(tags=["estates"])

ReadRegistry = Annotated[Actor, Depends(require(Perm.registry_read))]
ManageEstates = Annotated[Actor, Depends(require(Perm.estates_manage))]
Fragment = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="A fragment of the name or office name")]
EstatePage = Annotated[PageRequest, Depends(page_of(service.EstateSort))]


@router.get("/estates", response_model=Page[EstateRead], responses=problems(UnknownSortKey))
async def list_estates(actor: ReadRegistry, session: SessionDep, page: EstatePage, q: Fragment = None) -> Page[EstateRead]:
    """The estates the caller is assigned to."""
    rows, total = await service.list_estates(session, actor=actor, page=page, q=q)
    return Page(items=[EstateRead.model_validate(e) for e in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/estates", response_model=EstateRead, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateCodeTaken, OfficeHoursOutOfOrder))
@idempotent(status.HTTP_201_CREATED)
async def create_estate(body: EstateCreate, actor: ManageEstates, session: SessionDep) -> EstateRead:
    """Set up an estate of the caller's company; the administrator who creates it is assigned to it."""
    return EstateRead.model_validate(await service.create_estate(session, actor=actor, data=body))


@router.get("/estates/{estate_id}", response_model=EstateRead, responses=read_responses(EstateNotFound))
async def get_estate(estate_id: uuid.UUID, actor: ReadRegistry, session: SessionDep, response: Response) -> EstateRead:
    """One of the caller's estates; any other answers 404."""
    return tagged(response, EstateRead.model_validate(await service.check_estate(session, actor=actor, estate_id=estate_id)))


@router.patch("/estates/{estate_id}", response_model=EstateRead,
              responses=edit_responses(EstateNotFound, EstateCodeTaken, OfficeHoursOutOfOrder))
async def update_estate(
    estate_id: uuid.UUID, body: EstateUpdate, actor: ManageEstates, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> EstateRead:
    """Change the name, office name, code, time zone (an IANA name), office hours, or the characters
    (simplified or traditional) its scripts, notifications, unit labels and documents are written in."""
    row = await service.update_estate(session, actor=actor, estate_id=estate_id, data=body, expected_version=expected)
    return tagged(response, EstateRead.model_validate(row))


@router.post("/estates/{estate_id}/close", response_model=EstateRead, responses=problems(EstateNotFound, EstateClosed))
@idempotent(200)
async def close_estate(estate_id: uuid.UUID, body: EstateClose, actor: ManageEstates, session: SessionDep) -> EstateRead:
    """Close an estate the office no longer manages. Nothing is deleted: its records and reports stay
    readable, but from now on anything new in it (requests, payments, charges, units...) answers 409
    estate-closed. There is no reopening."""
    return EstateRead.model_validate(await service.close_estate(session, actor=actor, estate_id=estate_id, data=body))


@router.get("/company", response_model=CompanyRead, responses=read_responses(CompanyNotFound))
async def get_company(actor: ReadRegistry, session: SessionDep, response: Response) -> CompanyRead:
    """The caller's company: the legal name, address, phone and credit code its receipts print."""
    return tagged(response, CompanyRead.model_validate(await company_service.get_company(session, actor=actor)))


@router.patch("/company", response_model=CompanyRead, responses=edit_responses(CompanyNotFound, CreditCodeTaken))
async def update_company(body: CompanyUpdate, actor: ManageEstates, session: SessionDep, expected: ExpectedVersion,
                         response: Response) -> CompanyRead:
    """Change the company's details (administrators); the unified social credit code's check character is verified."""
    row = await company_service.update_company(session, actor=actor, data=body, expected_version=expected)
    return tagged(response, CompanyRead.model_validate(row))
