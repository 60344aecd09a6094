"""The office's repair paperwork: the morning list, the daily repair log, Monday's approval
batch and the month-end voucher hand-over (§5.6, §7.3.1, §7.3.10)."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.files import PDF_CONTENT, Encoding, download, pdf_response
from app.api.idempotency import idempotent
from app.api.ratelimit import REPORT_LIMIT, RateLimited
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound
from app.domain.repairs.model import ReasonRequired
from app.domain.repairs.paperwork import approvals, daily_log, manifests, morning
from app.domain.repairs.paperwork.daily_log_pdf import daily_log_pdf
from app.domain.repairs.paperwork.model import LineAlreadyDecided, ManifestAlreadyAcknowledged
from app.domain.repairs.paperwork.schemas import (
    ApprovalBatchCreate,
    ApprovalBatchDetail,
    ApprovalBatchRead,
    ApprovalLineRead,
    DailyLog,
    ManifestBuild,
    MorningReport,
    ReportDay,
    ReturnLine,
    VoucherManifestDetail,
    VoucherManifestRead,
)
from app.domain.spreadsheet import XLSX_MEDIA_TYPE
from app.domain.types import MONTH_PATTERN

router = APIRouter(tags=["repair reports"])

Reader = Annotated[Actor, Depends(require(Perm.reports_read))]
Approver = Annotated[Actor, Depends(require(Perm.orders_approve))]
Receiver = Annotated[Actor, Depends(require(Perm.vouchers_receive))]
Day = Annotated[ReportDay | None, Query(description="A local day, YYYY-MM-DD; today in the estate's time zone when left out")]
ApprovalBatchPage = Annotated[PageRequest, Depends(page_of(approvals.ApprovalBatchSort))]
ManifestPage = Annotated[PageRequest, Depends(page_of(manifests.ManifestSort))]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}},
                      XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
                      **PDF_CONTENT},
          "description": "The log as JSON, with format=csv / format=xlsx as a file with Chinese headers, "
                         "with format=pdf as the printable book page (A4 landscape)"},
}


@router.get("/estates/{estate_id}/repairs/morning", response_model=MorningReport, dependencies=[REPORT_LIMIT],
            responses=problems(EstateNotFound, RateLimited))
async def get_morning(estate_id: uuid.UUID, actor: Reader, session: SessionDep, date: Day = None) -> MorningReport:
    """Yesterday's (and older) unfinished business as of the start of `date` (§7.3.1): open service
    requests, work orders not finished (with their age), and open callbacks by due date, overdue first."""
    return await morning.morning(session, actor=actor, estate_id=estate_id, day=date)


@router.get("/estates/{estate_id}/repairs/daily-log", response_model=DailyLog, dependencies=[REPORT_LIMIT],
            responses={**CSV_RESPONSE, **problems(EstateNotFound, RateLimited)})
async def get_daily_log(
    estate_id: uuid.UUID, actor: Reader, session: SessionDep, date: Day = None,
    format: Annotated[Literal["json", "csv", "xlsx", "pdf"],
                      Query(description="json, csv for Excel (see `encoding`), xlsx, or pdf to print")] = "json",
    encoding: Encoding = "utf-8",
) -> Any:
    """The repair record book of a local day (§5.6): every order created, dispatched, started, completed or
    cancelled that day, or still open at the close, with its state at the close of office hours. The log
    the job compiled at the close is served when there is one (source=stored), else it is computed now."""
    if format == "pdf":
        name, pdf = await daily_log_pdf(session, actor=actor, estate_id=estate_id, day=date)
        return pdf_response(pdf, filename=name)
    if format != "json":
        body, media_type, filename = await daily_log.daily_log_file(session, actor=actor, estate_id=estate_id, day=date,
                                                                    fmt=format, encoding=encoding)
        return download(body, media_type=media_type, filename=filename)
    return await daily_log.daily_log(session, actor=actor, estate_id=estate_id, day=date)


# --- Monday's approval batch -----------------------------------------------------------

@router.post("/estates/{estate_id}/approval-batches", response_model=ApprovalBatchDetail, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateNotFound, approvals.WeekNotOver, approvals.ApprovalBatchAlreadyBuilt))
@idempotent(status.HTTP_201_CREATED)
async def create_approval_batch(estate_id: uuid.UUID, body: ApprovalBatchCreate, actor: Approver,
                                session: SessionDep) -> ApprovalBatchDetail:
    """Build an ended ISO week's approval batch now (the job builds last week's on Monday at 8:00): the orders
    whose callback was done that week. A week is batched once: a second build answers 409
    approval-batch-already-built with the existing `batch_id`."""
    return await approvals.create_batch(session, actor=actor, estate_id=estate_id, week=body.week)


@router.get("/estates/{estate_id}/approval-batches", response_model=Page[ApprovalBatchRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_approval_batches(
    estate_id: uuid.UUID, actor: Reader, session: SessionDep, page: ApprovalBatchPage
) -> Page[ApprovalBatchRead]:
    """The estate's approval batches, latest week first, with how many lines are pending, approved, returned."""
    rows, total = await approvals.list_batches(session, actor=actor, estate_id=estate_id, page=page)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/approval-batches/{batch_id}", response_model=ApprovalBatchDetail, responses=problems(approvals.ApprovalBatchNotFound))
async def get_approval_batch(batch_id: uuid.UUID, actor: Reader, session: SessionDep) -> ApprovalBatchDetail:
    """One approval batch with its lines: the order, its technician and the callback's score."""
    return await approvals.get_batch(session, actor=actor, batch_id=batch_id)


@router.post(
    "/approval-batches/{batch_id}/lines/{line_id}/approve",
    response_model=ApprovalLineRead,
    responses=problems(approvals.ApprovalBatchNotFound, approvals.ApprovalLineNotFound, LineAlreadyDecided, IllegalTransition),
)
@idempotent(200)
async def approve_line(batch_id: uuid.UUID, line_id: uuid.UUID, actor: Approver, session: SessionDep) -> ApprovalLineRead:
    """Approve the line's work order. A line is decided once (409 line-already-decided)."""
    return await approvals.decide_line(session, actor=actor, batch_id=batch_id, line_id=line_id, approve=True)


@router.post(
    "/approval-batches/{batch_id}/lines/{line_id}/return",
    response_model=ApprovalLineRead,
    responses=problems(
        approvals.ApprovalBatchNotFound, approvals.ApprovalLineNotFound, LineAlreadyDecided, IllegalTransition, ReasonRequired
    ),
)
@idempotent(200)
async def return_line(batch_id: uuid.UUID, line_id: uuid.UUID, body: ReturnLine, actor: Approver, session: SessionDep) -> ApprovalLineRead:
    """Return the line's work order to the desk with a reason: it goes back to completed, to be called back
    again. A line is decided once (409 line-already-decided)."""
    return await approvals.decide_line(session, actor=actor, batch_id=batch_id, line_id=line_id, approve=False, reason=body.reason)


# --- month-end voucher hand-over -------------------------------------------------------


@router.post(
    "/estates/{estate_id}/voucher-manifests",
    response_model=list[VoucherManifestRead],
    status_code=status.HTTP_201_CREATED,
    responses=problems(EstateNotFound, manifests.MonthNotStarted, manifests.ManifestsAlreadyBuilt),
)
@idempotent(status.HTTP_201_CREATED)
async def create_voucher_manifests(
    estate_id: uuid.UUID, body: ManifestBuild, actor: Approver, session: SessionDep
) -> list[VoucherManifestRead]:
    """Build a month's voucher hand-over manifests now (the job builds them at 17:00 on the month's last day):
    one per jurisdiction for its manager, one of public-area vouchers for the records clerk. A month is built
    once: a second build answers 409 manifests-already-built with the existing `manifest_ids`."""
    return await manifests.create_manifests(session, actor=actor, estate_id=estate_id, month=body.month)


@router.get(
    "/estates/{estate_id}/voucher-manifests", response_model=Page[VoucherManifestRead], responses=problems(EstateNotFound, UnknownSortKey)
)
async def list_voucher_manifests(
    estate_id: uuid.UUID,
    actor: Reader,
    session: SessionDep,
    page: ManifestPage,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, max_length=7, description="A month: 2026-11")] = None,
) -> Page[VoucherManifestRead]:
    """The estate's voucher manifests, latest month first; filter by month."""
    rows, total = await manifests.list_manifests(session, actor=actor, estate_id=estate_id, month=month, page=page)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/voucher-manifests/{manifest_id}", response_model=VoucherManifestDetail, responses=problems(manifests.ManifestNotFound))
async def get_voucher_manifest(manifest_id: uuid.UUID, actor: Reader, session: SessionDep) -> VoucherManifestDetail:
    """One manifest with its vouchers."""
    return await manifests.get_manifest(session, actor=actor, manifest_id=manifest_id)


@router.post(
    "/voucher-manifests/{manifest_id}/acknowledge",
    response_model=VoucherManifestDetail,
    responses=problems(manifests.ManifestNotFound, manifests.NotTheRecipient, ManifestAlreadyAcknowledged, IllegalTransition),
)
@idempotent(200)
async def acknowledge_voucher_manifest(manifest_id: uuid.UUID, actor: Receiver, session: SessionDep) -> VoucherManifestDetail:
    """Acknowledge receipt of the manifest's vouchers: the jurisdiction's manager, a records clerk for public
    areas, or a supervisor or administrator on their behalf. Approved orders among them are archived.
    Acknowledging twice answers 409 manifest-already-acknowledged."""
    return await manifests.acknowledge(session, actor=actor, manifest_id=manifest_id)
