"""Fee reports for the supervisor and finance: the Saturday register (§5.5) and the month-end
fee report (§5.8), live or as the jobs stored them, as JSON, CSV or XLSX."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.files import PDF_CONTENT, Encoding, download, pdf_response
from app.api.ratelimit import REPORT_LIMIT, RateLimited
from app.domain import spreadsheet
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.fees.reports import export as report_export
from app.domain.fees.reports import month_report
from app.domain.fees.reports import saturday_register as register
from app.domain.fees.reports.model import FeeReportNotFound, FeeReportSort, get_report, list_reports
from app.domain.fees.reports.register_pdf import register_pdf
from app.domain.fees.reports.schemas import (
    FeeReportDetail,
    FeeReportKind,
    FeeReportRead,
    Month,
    MonthFeeReport,
    ReportFormat,
    SaturdayRegister,
    Week,
)
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound

router = APIRouter(tags=["fee reports"])

Reader = Annotated[Actor, Depends(require(Perm.fee_reports_read))]
Format = Annotated[ReportFormat, Query(description="json (default), csv (for Excel; see `encoding`) or xlsx (prints "
                                                   "A4 landscape, one page wide)")]
# The register is also kept on paper for the supervisor (§5.5): it alone prints as a PDF too.
RegisterFormat = Annotated[Literal["json", "csv", "xlsx", "pdf"],
                           Query(description="json (default), csv (for Excel; see `encoding`), xlsx, or pdf to print")]
FeeReportPage = Annotated[PageRequest, Depends(page_of(FeeReportSort))]
FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}},
                      spreadsheet.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
          "description": "The report as JSON, or with format=csv / format=xlsx as a file with Chinese headers"},
}


REGISTER_FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {**FILES[200]["content"], **PDF_CONTENT},
          "description": "The register as JSON, with format=csv / format=xlsx as a file with Chinese headers, "
                         "with format=pdf as the printable register (A4 landscape)"},
}


def _download(file: report_export.ReportFile) -> Response:
    return download(file.body, media_type=file.media_type, filename=file.filename)


@router.get("/estates/{estate_id}/fee-reports/saturday-register", response_model=SaturdayRegister, dependencies=[REPORT_LIMIT],
            responses={**REGISTER_FILES, **problems(EstateNotFound, register.InvalidWeek, RateLimited)})
async def get_saturday_register(
    estate_id: uuid.UUID, actor: Reader, session: SessionDep, format: RegisterFormat = "json", encoding: Encoding = "utf-8",
    week: Annotated[Week | None, Query(description="An ISO week: 2026-W48; the current one when left out")] = None,
) -> Any:
    """The Saturday register (§5.5): every receipt and refund issued in the week, line by line (number, time,
    unit, payer, fee items settled, method, amount, cashier, status), with totals by fee item, by method and
    by receptionist, the grand total and counts. A voided receipt is listed as void and counts 0; a refund
    counts negative.

    The register's week runs Saturday 00:00 to Friday 24:00, estate-local, because it is handed over on
    Saturday; it is named by the ISO week of its Friday (2026-W48 = Saturday 21 to Friday 27 November 2026).
    Left out, `week` is the week today falls in. The job stores each finished week's register on Saturday at
    12:00 (see the stored reports). With format=pdf: the register to print and sign, A4 landscape."""
    if format == "pdf":
        filename, pdf = await register_pdf(session, actor=actor, estate_id=estate_id, week=week)
        return pdf_response(pdf, filename=filename)
    if format != "json":
        return _download(await report_export.saturday_register_file(session, actor=actor, estate_id=estate_id,
                                                                     week=week, fmt=format, encoding=encoding))
    _, report = await register.saturday_register(session, actor=actor, estate_id=estate_id, week=week)
    return report


@router.get("/estates/{estate_id}/fee-reports/month-end", response_model=MonthFeeReport, dependencies=[REPORT_LIMIT],
            responses={**FILES, **problems(EstateNotFound, month_report.InvalidMonth, RateLimited)})
async def get_month_fee_report(
    estate_id: uuid.UUID, actor: Reader, session: SessionDep, format: Format = "json", encoding: Encoding = "utf-8",
    month: Annotated[Month | None, Query(description="A month: 2026-11; the current one when left out")] = None,
) -> Any:
    """The month-end fee report for finance (§5.8), per fee item and per building with estate totals: billed,
    collected for the month, arrears of earlier months recovered, outstanding at the month's end, collection
    rate (collected for the month / billed, four decimals) and households billed, paid in full, partly paid
    and unpaid. Receipts count by their issue date, estate-local; voided ones count nowhere; refunds reduce
    the money collected. `totals.collected_in_month` equals `totals.receipts_total`, the sum of the month's
    receipts. Left out, `month` is the current one. The job stores each month's report on its last day."""
    if format != "json":
        return _download(await report_export.month_fee_report_file(session, actor=actor, estate_id=estate_id,
                                                                   month=month, fmt=format, encoding=encoding))
    _, report = await month_report.month_fee_report(session, actor=actor, estate_id=estate_id, month=month)
    return report


@router.get("/estates/{estate_id}/fee-reports", response_model=Page[FeeReportRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_fee_reports(
    estate_id: uuid.UUID, actor: Reader, session: SessionDep, page: FeeReportPage, kind: FeeReportKind | None = None,
    period: Annotated[str | None, Query(pattern=r"^20\d{2}-(W\d{2}|\d{2})$", max_length=8,
                                        description="2026-W48 or 2026-11")] = None,
) -> Page[FeeReportRead]:
    """The reports the jobs produced for the estate (Saturday registers, month-end fee reports), latest first,
    with their grand total. One per period: a re-run replaces it."""
    rows, total = await list_reports(session, actor=actor, estate_id=estate_id, page=page, kind=kind, period=period)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/fee-reports/{report_id}", response_model=FeeReportDetail, dependencies=[REPORT_LIMIT],
            responses={**FILES, **problems(FeeReportNotFound, RateLimited)})
async def get_fee_report(report_id: uuid.UUID, actor: Reader, session: SessionDep, format: Format = "json",
                         encoding: Encoding = "utf-8") -> Any:
    """A stored report exactly as produced: `saturday_register` or `month_report` by its kind; with format=csv
    or format=xlsx, the same file the live endpoint gives."""
    if format != "json":
        return _download(await report_export.stored_file(session, actor=actor, report_id=report_id, fmt=format,
                                                            encoding=encoding))
    _, detail = await get_report(session, actor=actor, report_id=report_id)
    return detail
