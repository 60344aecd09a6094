"""The fee reports as files for the office's PCs: CSV (UTF-8 with a BOM, so Excel on a Chinese
system opens it without mojibake) and XLSX. Chinese headers; times estate-local; money as
strings with two places in CSV and as numbers formatted 0.00 in XLSX, so sheets can sum them.

Each report is first laid out as sections (a title, headers, rows); the two writers only
differ in how they put sections on paper: one after another in CSV, one sheet each in XLSX.
"""
from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import spreadsheet
from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.fees.payments.model import ReceiptSeries
from app.domain.fees.reports import month_report
from app.domain.fees.reports import saturday_register as register
from app.domain.fees.reports.model import FeeReportKind, get_report
from app.domain.fees.reports.schemas import RATE_PLACES, MonthFeeReport, MonthFigures, RegisterLine, SaturdayRegister
from app.domain.registry.model import Estate

CENT = Decimal("0.01")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SERIES_NAMES = {"receipt": "收据", "refund": "退款"}
STATUS_NAMES = {"issued": "有效", "void": "作废"}


@dataclass(frozen=True)
class Rate:
    """A collection rate cell: 0.8123 (four places), blank when nothing was billed."""

    value: Decimal | None


@dataclass(frozen=True)
class Section:
    sheet: str  # the XLSX sheet's name (at most 31 characters)
    title: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class ReportFile:
    body: bytes
    media_type: str
    filename: str


def _local(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at is not None else ""


# --- the Saturday register ---------------------------------------------------------------

REGISTER_HEADERS = ["序号", "收据号", "类别", "开具时间", "房号", "交款人", "收费项目", "收款方式", "金额", "计入金额",
                    "收款人", "状态", "作废原因"]


def _settled_text(line: RegisterLine) -> str:
    parts = [f"{p.fee_item_name}({p.period}) {p.amount:.2f}" if p.period else f"{p.fee_item_name} {p.amount:.2f}"
             for p in line.settled]
    if line.credit:
        parts.append(f"{register.CREDIT_NAME} {line.credit:.2f}")
    if line.series is ReceiptSeries.refund:
        parts.append(register.REFUND_NAME)
    return "；".join(parts)


def register_sections(report: SaturdayRegister, tz: ZoneInfo) -> list[Section]:
    lines = [[n, r.number, SERIES_NAMES[r.series.value], _local(r.issued_at, tz), r.unit_label, r.payer, _settled_text(r),
              register.METHOD_NAMES[r.method], r.amount, r.counted, r.cashier_name, STATUS_NAMES[r.status.value], r.void_reason]
             for n, r in enumerate(report.lines, 1)]
    c = report.counts
    return [
        Section("收费明细", f"{report.estate_name} 周收费登记表 {report.week}（{report.first_day} 至 {report.last_day}）",
                REGISTER_HEADERS, lines),
        Section("按收费项目", "按收费项目汇总", ["收费项目", "金额", "笔数"],
                [[t.name, t.amount, t.receipts] for t in report.by_fee_item] + [["合计", report.grand_total, None]]),
        Section("按收款方式", "按收款方式汇总", ["收款方式", "金额", "笔数"],
                [[t.name, t.amount, t.receipts] for t in report.by_method] + [["合计", report.grand_total, None]]),
        Section("按收款人", "按收款人汇总", ["收款人", "金额", "笔数", "作废笔数"],
                [[t.name, t.amount, t.receipts, t.voided] for t in report.by_cashier] + [["合计", report.grand_total, None, None]]),
        Section("合计", "合计", ["总金额", "明细行数", "收据张数", "退款张数", "作废张数"],
                [[report.grand_total, c.lines, c.receipts, c.refunds, c.voided]]),
    ]


# --- the month-end fee report ------------------------------------------------------------

FIGURE_HEADERS = ["本月应收", "往月预收本月", "本月实收本月", "本月欠收", "收缴率", "收回往月欠费", "预收以后月份",
                  "本月收款合计", "应收户数", "已缴清户数", "部分缴纳户数", "未缴户数"]
ON_ACCOUNT_HEADERS = ["预收款（存入账户）", "退还预收款"]


def _figures(f: MonthFigures) -> list[Any]:
    return [f.billed, f.collected_before, f.collected_for_month, f.outstanding, Rate(f.collection_rate),
            f.collected_for_earlier, f.collected_for_later, f.collected_in_month, f.households_billed,
            f.households_paid_in_full, f.households_partly_paid, f.households_unpaid]


def month_sections(report: MonthFeeReport) -> list[Section]:
    t = report.totals
    return [
        Section("按收费项目", f"{report.estate_name} {report.month} 月度收费报表：按收费项目", ["代码", "收费项目", *FIGURE_HEADERS],
                [[i.code, i.name, *_figures(i)] for i in report.by_fee_item]),
        Section("按楼栋", "按楼栋", ["楼栋", *FIGURE_HEADERS, *ON_ACCOUNT_HEADERS],
                [[b.name, *_figures(b), b.credit_received, b.refunds] for b in report.by_building]
                + [["合计", *_figures(t), t.credit_received, t.refunds]]),
        Section("收据核对", "收据核对：本月收款合计 = 本月有效收据合计（退款为负）",
                ["本月收款合计", "本月有效收据合计", "收据张数", "退款张数", "作废张数"],
                [[t.collected_in_month, t.receipts_total, t.receipts, t.refund_documents, t.voided]]),
    ]


# --- writers -----------------------------------------------------------------------------

def _csv_cell(value: Any) -> Any:
    if isinstance(value, Rate):
        return "" if value.value is None else str(value.value.quantize(RATE_PLACES))
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    return spreadsheet.csv_cell(value)


def to_csv(sections: list[Section]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for n, section in enumerate(sections):
        if n:
            writer.writerow([])
        writer.writerow(spreadsheet.csv_row([section.title]))
        writer.writerow(spreadsheet.csv_row(section.headers))
        writer.writerows([_csv_cell(v) for v in row] for row in section.rows)
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def to_xlsx(sections: list[Section]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for section in sections:
        sheet = book.create_sheet(section.sheet[:31])
        spreadsheet.append_row(sheet, [section.title])
        spreadsheet.append_row(sheet, section.headers)
        for row in section.rows:
            cells = spreadsheet.append_row(sheet, [_xlsx_value(v) for v in row])
            for cell, value in zip(cells, row, strict=True):
                if isinstance(value, Rate):
                    cell.number_format = "0.0000"
                elif isinstance(value, Decimal):
                    cell.number_format = "0.00"
        for column, header in zip(sheet.iter_cols(min_row=2, max_row=2), section.headers, strict=True):
            sheet.column_dimensions[column[0].column_letter].width = max(10, 2 * len(header) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Rate):
        return None if value.value is None else value.value.quantize(RATE_PLACES)
    if isinstance(value, Decimal):
        return value.quantize(CENT)
    return value


def _file(sections: list[Section], fmt: str, stem: str) -> ReportFile:
    body = to_csv(sections) if fmt == "csv" else to_xlsx(sections)
    return ReportFile(body=body, media_type=MEDIA_TYPES[fmt], filename=f"{stem}.{fmt}")


def _stem(kind: FeeReportKind, estate: Estate, period: str) -> str:
    # Content-Disposition wants ASCII; an estate code in Chinese is left out of the name.
    code = re.sub(r"[^A-Za-z0-9_-]", "", estate.code) or "estate"
    name = "saturday-register" if kind is FeeReportKind.saturday_register else "month-fee-report"
    return f"{name}-{code}-{period}"


def register_file(report: SaturdayRegister, *, estate: Estate, fmt: str) -> ReportFile:
    sections = register_sections(report, estate_time.estate_zone(estate))
    return _file(sections, fmt, _stem(FeeReportKind.saturday_register, estate, report.week))


def month_file(report: MonthFeeReport, *, estate: Estate, fmt: str) -> ReportFile:
    return _file(month_sections(report), fmt, _stem(FeeReportKind.month_end, estate, report.month))


# --- what the endpoints call -------------------------------------------------------------

async def saturday_register_file(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, week: str | None,
                                 fmt: str) -> ReportFile:
    estate, report = await register.saturday_register(session, actor=actor, estate_id=estate_id, week=week)
    return register_file(report, estate=estate, fmt=fmt)


async def month_fee_report_file(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str | None,
                                fmt: str) -> ReportFile:
    estate, report = await month_report.month_fee_report(session, actor=actor, estate_id=estate_id, month=month)
    return month_file(report, estate=estate, fmt=fmt)


async def stored_file(session: AsyncSession, *, actor: Actor, report_id: uuid.UUID, fmt: str) -> ReportFile:
    row, detail = await get_report(session, actor=actor, report_id=report_id)
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    if detail.saturday_register is not None:
        return register_file(detail.saturday_register, estate=estate, fmt=fmt)
    assert detail.month_report is not None
    return month_file(detail.month_report, estate=estate, fmt=fmt)
