"""The bill explained line by line (§7.3.13) and arrears by age."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.files import PDF_RESPONSE, pdf_response
from app.api.ratelimit import REPORT_LIMIT, RateLimited
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.fees.billing.rules import MONTH_PATTERN
from app.domain.fees.statements import arrears
from app.domain.fees.statements import arrears_notice_pdf as notices
from app.domain.fees.statements import service as statements
from app.domain.fees.statements.schemas import EstateArrears, UnitArrears, UnitBill
from app.domain.pagination import PageRequest, UnknownSortKey
from app.domain.registry.errors import BuildingNotFound, BuildingNotInEstate, EstateNotFound, UnitNotFound
from app.domain.types import EXACT_DAY, EXACT_INT

router = APIRouter(tags=["bills"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
ArrearsPage = Annotated[PageRequest, Depends(page_of(arrears.ArrearsSort))]
PayBy = Annotated[date | None, Query(description="The day to pay by (YYYY-MM-DD), from the estate's today to a year "
                                                 "ahead; 15 days from today when left out"), EXACT_DAY]
MinAge = Annotated[int, Query(ge=0, le=100_000,
                              description="Only units whose oldest unpaid charge is at least this many days past due"), EXACT_INT]


@router.get("/units/{unit_id}/bill", response_model=UnitBill, responses=problems(UnitNotFound, statements.MonthsOutOfOrder))
async def unit_bill(
    unit_id: uuid.UUID, actor: Read, session: SessionDep,
    from_month: Annotated[str | None, Query(alias="from", pattern=MONTH_PATTERN,
                                            description="First month (YYYY-MM) of the charges shown")] = None,
    to_month: Annotated[str | None, Query(alias="to", pattern=MONTH_PATTERN,
                                          description="Last month (YYYY-MM) of the charges shown")] = None,
) -> UnitBill:
    """The unit's bill as the desk reads it to an owner who doubts it (§7.3.13).

    Each charge with how it was computed (structured, and one sentence such as
    物业管理费 2.50元/㎡·月 × 89.20㎡ × 1个月 = 223.00元), its late fee as of the estate-local
    today, the receipts that paid it (voided ones shown, not counted) and its balance; then the
    totals. Without `from`/`to`: every open charge and the last 12 months. A one-off charge
    belongs to the month it fell due. `balance_due` covers every open charge of the unit, less
    the credit on account.
    """
    return await statements.unit_bill(session, actor=actor, unit_id=unit_id, from_month=from_month, to_month=to_month)


@router.get("/units/{unit_id}/arrears", response_model=UnitArrears, responses=problems(UnitNotFound))
async def unit_arrears(unit_id: uuid.UUID, actor: Read, session: SessionDep) -> UnitArrears:
    """What the unit owes, by days past each charge's due date (0–30, 31–90, 91–365, over 365).

    Ages count from the due date to the estate-local today; charges not yet due and late fees
    are not arrears.
    """
    return await arrears.unit_arrears(session, actor=actor, unit_id=unit_id)


@router.get("/estates/{estate_id}/arrears", response_model=EstateArrears, dependencies=[REPORT_LIMIT],
            responses=problems(EstateNotFound, UnknownSortKey, RateLimited))
async def estate_arrears(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: ArrearsPage, building_id: uuid.UUID | None = None,
    min_age_days: MinAge = 0,
) -> EstateArrears:
    """The estate's arrears by age: one line per owing unit, the largest debt first, and the
    estate's totals per bucket (over every unit matching the filters, not only the page).

    Ages count from each charge's due date to the estate-local today (due today: 0 days).
    Sort by `total`, `oldest_due_date` or `unit`; prefix `-` for descending.
    """
    return await arrears.estate_arrears(session, actor=actor, estate_id=estate_id, page=page, building_id=building_id,
                                        min_age_days=min_age_days)


@router.get("/units/{unit_id}/arrears-notice.pdf", response_class=Response,
            responses={**PDF_RESPONSE, **problems(UnitNotFound, notices.PayByOutOfRange, notices.UnitOwesNothing)})
async def unit_arrears_notice(unit_id: uuid.UUID, actor: Read, session: SessionDep, pay_by: PayBy = None) -> Response:
    """The unit's arrears notice to print (催缴通知单, PDF, A4): each charge past due with its period, amount,
    due date, age in days and late fee as of the estate-local today, the totals, the office's address and
    phone, and the day to pay by. A unit owing nothing past due answers 409 unit-owes-nothing."""
    filename, pdf = await notices.unit_notice(session, actor=actor, unit_id=unit_id, pay_by=pay_by)
    return pdf_response(pdf, filename=filename)


@router.get("/estates/{estate_id}/arrears-notices.pdf", response_class=Response, dependencies=[REPORT_LIMIT],
            responses={**PDF_RESPONSE, **problems(EstateNotFound, BuildingNotFound, BuildingNotInEstate, notices.PayByOutOfRange,
                                                  notices.TooManyNotices, RateLimited)})
async def estate_arrears_notices(estate_id: uuid.UUID, actor: Read, session: SessionDep, building_id: uuid.UUID | None = None,
                                 min_age_days: MinAge = 0, pay_by: PayBy = None) -> Response:
    """Arrears notices for every owing unit of the estate, or of one building, as one PDF: one notice per
    unit in unit order, each starting on a new page and numbered within itself. Units owing nothing past
    due are left out; when none owes, the PDF is one page saying so. At most 300 notices per batch
    (422 too-many-notices: narrow it with `building_id` or `min_age_days`)."""
    filename, pdf = await notices.batch_notices(session, actor=actor, estate_id=estate_id, building_id=building_id,
                                                min_age_days=min_age_days, pay_by=pay_by)
    return pdf_response(pdf, filename=filename)
