"""The fee reports as files for the office's PCs: CSV (UTF-8 with a BOM, so Excel on a Chinese
system opens it without mojibake, or GB18030 on request) and XLSX that prints. Chinese headers;
times estate-local; money with two places; totals rows computed by the sheet-writer.

Each report is laid out as sheets of typed columns (app/domain/spreadsheet.py); the writer puts
them on paper: one after another in CSV, one worksheet each in XLSX.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import spreadsheet
from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.fees.payments.model import METHOD_NAMES, SERIES_NAMES, STATUS_NAMES, ReceiptSeries
from app.domain.fees.reports import month_report
from app.domain.fees.reports import saturday_register as register
from app.domain.fees.reports.model import FeeReportKind, get_report
from app.domain.fees.reports.schemas import MonthFeeReport, MonthFigures, RegisterLine, SaturdayRegister
from app.domain.registry.model import Estate
from app.domain.spreadsheet import Column, CsvEncoding, Kind, Sheet

MONEY, INT = Kind.money, Kind.int


@dataclass(frozen=True)
class ReportFile:
    body: bytes
    media_type: str
    filename: str


# --- the Saturday register ---------------------------------------------------------------

REGISTER_COLUMNS = [
    Column("序号", INT), Column("收据号"), Column("类别"), Column("开具时间", Kind.datetime), Column("房号"), Column("交款人"),
    Column("收费项目"), Column("所属期间"), Column("收款方式"), Column("金额", MONEY), Column("计入金额", MONEY), Column("收款人"),
    Column("状态"), Column("作废原因"),
]


def _settled_rows(line: RegisterLine) -> list[tuple[str, str, Any]]:
    """What one receipt settled, a row each (item, period, amount): the charges, the money kept on
    account, the refund. The rows add up to the receipt's amount; a void's cleared credit is the rest."""
    parts: list[tuple[str, str, Any]] = [(spreadsheet.coded(p.fee_item_name, p.fee_item_code), p.period or "", p.amount)
                                         for p in line.settled]
    if line.series is ReceiptSeries.refund:
        parts.append((register.REFUND_NAME, "", line.amount))
    rest = line.amount - sum((amount for _, _, amount in parts), register.ZERO)
    if rest or not parts:
        parts.append((register.CREDIT_NAME, "", rest))
    return parts


def _register_rows(report: SaturdayRegister) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for r in report.lines:
        # What the register counts nothing of (a void, a deduction from an account) counts nothing here.
        uncounted = not r.counted
        for item, period, amount in _settled_rows(r):
            rows.append([len(rows) + 1, r.number, SERIES_NAMES[r.series], r.issued_at, r.unit_label, r.payer, item,
                         period, METHOD_NAMES[r.method], amount, register.ZERO if uncounted else amount, r.cashier_name,
                         STATUS_NAMES[r.status], r.void_reason])
    return rows


def register_sheets(report: SaturdayRegister) -> list[Sheet]:
    codes: dict[uuid.UUID | None, str] = {p.fee_item_id: p.fee_item_code for line in report.lines for p in line.settled}
    c = report.counts
    heading = f"{report.estate_name} 周收费登记表 {report.week}（{report.first_day} 至 {report.last_day}）"
    return [
        Sheet("收费明细", heading, REGISTER_COLUMNS, _register_rows(report), totals=True),
        Sheet("按收费项目", f"{heading} 按收费项目汇总", [Column("收费项目"), Column("金额", MONEY), Column("笔数", INT)],
              [[spreadsheet.coded(t.name, codes.get(t.fee_item_id)), t.amount, t.receipts] for t in report.by_fee_item],
              totals=True),
        Sheet("按收款方式", f"{heading} 按收款方式汇总",
              [Column("收款方式"), Column("金额", MONEY), Column("笔数", INT, total=True)],
              [[t.name, t.amount, t.receipts] for t in report.by_method], totals=True),
        Sheet("按收款人", f"{heading} 按收款人汇总",
              [Column("收款人"), Column("金额", MONEY), Column("笔数", INT, total=True), Column("作废笔数", INT, total=True)],
              [[t.name, t.amount, t.receipts, t.voided] for t in report.by_cashier], totals=True),
        Sheet("合计", f"{heading} 合计",
              [Column("总金额", MONEY), Column("明细行数", INT), Column("收据张数", INT), Column("退款张数", INT),
               Column("作废张数", INT)],
              [[report.grand_total, c.lines, c.receipts, c.refunds, c.voided]]),
    ]


# --- the month-end fee report ------------------------------------------------------------

def _figure_columns(*, households_add_up: bool) -> list[Column]:
    """A unit billed for two fee items is one household of each: per item the counts do not add up."""
    money = [Column(h, MONEY) for h in ("本月应收", "往月预收本月", "本月实收本月", "本月欠收")]
    # The rate is on what was to be collected: billed less waived.
    rate = Column("收缴率", Kind.rate, ratio=("本月实收本月", "减免后应收"))
    more = [Column(h, MONEY) for h in ("收回往月欠费", "预收以后月份", "本月收款合计")]
    households = [Column(h, INT, total=households_add_up) for h in ("应收户数", "已缴清户数", "部分缴纳户数", "未缴户数")]
    # Waivers (减免) last, so the columns before them keep their places in files read by position.
    waived = [Column(h, MONEY) for h in ("本月减免", "减免后应收")]
    return [*money, rate, *more, *households, *waived]


ON_ACCOUNT_COLUMNS = [Column("预收款（存入账户）", MONEY), Column("退还预收款", MONEY)]


def _figures(f: MonthFigures) -> list[Any]:
    return [f.billed, f.collected_before, f.collected_for_month, f.outstanding, f.collection_rate,
            f.collected_for_earlier, f.collected_for_later, f.collected_in_month, f.households_billed,
            f.households_paid_in_full, f.households_partly_paid, f.households_unpaid, f.waived, f.billed - f.waived]


def month_sheets(report: MonthFeeReport) -> list[Sheet]:
    t, c = report.totals, report.corrections
    heading = f"{report.estate_name} {report.month} 月度收费报表"
    return [
        Sheet("按收费项目", f"{heading}：按收费项目",
              [Column("代码"), Column("收费项目"), *_figure_columns(households_add_up=False)],
              [[i.code, i.name, *_figures(i)] for i in report.by_fee_item], totals=True),
        Sheet("按楼栋", f"{heading}：按楼栋",
              [Column("楼栋"), *_figure_columns(households_add_up=True), *ON_ACCOUNT_COLUMNS],
              [[b.name, *_figures(b), b.credit_received, b.refunds] for b in report.by_building], totals=True),
        Sheet("收据核对", f"{heading}：收据核对：本月收款合计 = 本月有效收据合计（退款为负）",
              [Column("本月收款合计", MONEY), Column("本月有效收据合计", MONEY), Column("收据张数", INT),
               Column("退款张数", INT), Column("作废张数", INT)],
              [[t.collected_in_month, t.receipts_total, t.receipts, t.refund_documents, t.voided]]),
        Sheet("滞纳金", f"{heading}：滞纳金（已含在各收费项目中）",
              [Column(h, MONEY) for h in ("本月计收滞纳金", "本月实收滞纳金", "本月减免滞纳金", "本月滞纳金欠收")],
              [[report.late_fees.billed, report.late_fees.collected, report.late_fees.waived, report.late_fees.outstanding]]),
        Sheet("更正", f"{heading}：更正（已取消的收费不计入应收）",
              [Column("取消笔数", INT), Column("取消金额", MONEY), Column("重开笔数", INT), Column("重开金额", MONEY),
               Column("对应收的影响", MONEY)],
              [[c.cancelled_count, c.cancelled_amount, c.replacements_count, c.replacements_amount, c.net_effect]]),
    ]


# --- files -------------------------------------------------------------------------------

def sheets_file(sheets: list[Sheet], *, estate: Estate, fmt: str, stem: str, encoding: CsvEncoding = "utf-8") -> ReportFile:
    tz = estate_time.estate_zone(estate)
    if fmt == "csv":
        return ReportFile(body=spreadsheet.to_csv(sheets, tz=tz, encoding=encoding),
                          media_type=spreadsheet.csv_media_type(encoding), filename=f"{stem}.csv")
    return ReportFile(body=spreadsheet.to_xlsx(sheets, tz=tz), media_type=spreadsheet.XLSX_MEDIA_TYPE, filename=f"{stem}.xlsx")


def _stem(kind: FeeReportKind, estate: Estate, period: str) -> str:
    # Content-Disposition wants ASCII; an estate code in Chinese is left out of the name.
    code = re.sub(r"[^A-Za-z0-9_-]", "", estate.code) or "estate"
    name = "saturday-register" if kind is FeeReportKind.saturday_register else "month-fee-report"
    return f"{name}-{code}-{period}"


def register_file(report: SaturdayRegister, *, estate: Estate, fmt: str, encoding: CsvEncoding = "utf-8") -> ReportFile:
    return sheets_file(register_sheets(report), estate=estate, fmt=fmt, encoding=encoding,
                       stem=_stem(FeeReportKind.saturday_register, estate, report.week))


def month_file(report: MonthFeeReport, *, estate: Estate, fmt: str, encoding: CsvEncoding = "utf-8") -> ReportFile:
    return sheets_file(month_sheets(report), estate=estate, fmt=fmt, encoding=encoding,
                       stem=_stem(FeeReportKind.month_end, estate, report.month))


# --- what the endpoints call -------------------------------------------------------------

async def saturday_register_file(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, week: str | None,
                                 fmt: str, encoding: CsvEncoding = "utf-8") -> ReportFile:
    estate, report = await register.saturday_register(session, actor=actor, estate_id=estate_id, week=week)
    return register_file(report, estate=estate, fmt=fmt, encoding=encoding)


async def month_fee_report_file(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str | None,
                                fmt: str, encoding: CsvEncoding = "utf-8") -> ReportFile:
    estate, report = await month_report.month_fee_report(session, actor=actor, estate_id=estate_id, month=month)
    return month_file(report, estate=estate, fmt=fmt, encoding=encoding)


async def stored_file(session: AsyncSession, *, actor: Actor, report_id: uuid.UUID, fmt: str,
                      encoding: CsvEncoding = "utf-8") -> ReportFile:
    row, detail = await get_report(session, actor=actor, report_id=report_id)
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    if detail.saturday_register is not None:
        return register_file(detail.saturday_register, estate=estate, fmt=fmt, encoding=encoding)
    assert detail.month_report is not None
    return month_file(detail.month_report, estate=estate, fmt=fmt, encoding=encoding)
