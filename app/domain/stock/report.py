"""The stocktake report for finance (§5.7): per item book, counted, difference in quantity and money.

For a posted count the figures are fixed (costs frozen at posting); for one in progress they
are live. The month's report is the month's posted count, or the one still in progress.
"""
from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import spreadsheet
from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.registry import service as registry_service
from app.domain.registry.model import Estate
from app.domain.spreadsheet import Column, CsvEncoding, Kind, Sheet
from app.domain.stock import stocktake as counts
from app.domain.stock.model import Stocktake, StocktakeStatus
from app.domain.stock.schemas import StocktakeLineRead, StocktakeRead, StocktakeReport, StocktakeTotals
from app.domain.visibility import load_visible

ZERO = Decimal("0.00")
Q, M = Kind.quantity, Kind.money
COLUMNS = [Column("序號", Kind.int), Column("編碼"), Column("名稱"), Column("單位"), Column("開盤帳存", Q), Column("期間變動", Q),
           Column("帳面數量", Q), Column("實盤數量", Q), Column("差異數量", Q), Column("單價", M, total=False),
           Column("帳面金額", M), Column("實盤金額", M), Column("差異金額", M), Column("盤點時間", Kind.datetime),
           Column("備註")]
SUMMARY_COLUMNS = [Column("品項數", Kind.int), Column("已盤品項", Kind.int), Column("盤虧品項", Kind.int),
                   Column("盤盈品項", Kind.int), Column("帳面金額", M), Column("實盤金額", M), Column("差異金額", M),
                   Column("盤虧金額", M), Column("盤盈金額", M)]
STATUS_NAMES = {"open": "未盤", "counting": "盤點中", "posted": "已過帳", "cancelled": "已取消"}


def totals(lines: list[StocktakeLineRead]) -> StocktakeTotals:
    counted = [line for line in lines if line.difference is not None]
    diffs = [line.difference_value or ZERO for line in counted]
    return StocktakeTotals(
        items=len(lines), counted=len(counted),
        shortages=sum(1 for line in counted if line.difference is not None and line.difference < 0),
        surpluses=sum(1 for line in counted if line.difference is not None and line.difference > 0),
        book_value=sum((line.book_value or ZERO for line in counted), ZERO),
        counted_value=sum((line.counted_value or ZERO for line in counted), ZERO),
        difference_value=sum(diffs, ZERO),
        shortage_value=sum((d for d in diffs if d < 0), ZERO),
        surplus_value=sum((d for d in diffs if d > 0), ZERO))


async def build(session: AsyncSession, *, estate: Estate, row: Stocktake) -> StocktakeReport:
    full = await counts.detail(session, row)
    head = StocktakeRead(**full.model_dump(exclude={"lines"}))
    return StocktakeReport(estate_id=estate.id, estate_name=estate.name, stocktake=head, lines=full.lines,
                           totals=totals(full.lines))


async def stocktake_report(session: AsyncSession, *, actor: Actor, stocktake_id: uuid.UUID) -> StocktakeReport:
    row = await load_visible(session, counts.STOCKTAKE, stocktake_id, actor=actor)
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    return await build(session, estate=estate, row=row)


async def month_report(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str) -> StocktakeReport:
    """The month's posted count (the latest, should there be two), else the one in progress."""
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    rank = case((Stocktake.status == StocktakeStatus.posted.value, 0), else_=1)
    row = (await session.execute(select(Stocktake).where(
        Stocktake.estate_id == estate.id, Stocktake.month == month, Stocktake.status != StocktakeStatus.cancelled.value)
        .order_by(rank, Stocktake.opened_at.desc()).limit(1))).scalar_one_or_none()
    if row is None:
        raise counts.StocktakeNotFound(f"no stocktake for {month}", month=month)
    return await build(session, estate=estate, row=row)


def sheets(report: StocktakeReport) -> list[Sheet]:
    st = report.stocktake
    title = f"{report.estate_name} 庫存盤點表 {st.reference} {st.month} {STATUS_NAMES.get(st.status.value, st.status.value)}"
    lines = [[n, line.code, line.name, line.unit, line.snapshot_quantity, line.movements_since, line.book_quantity,
              line.counted_quantity, line.difference, line.unit_cost, line.book_value, line.counted_value,
              line.difference_value, line.counted_at, line.note] for n, line in enumerate(report.lines, 1)]
    t = report.totals
    return [
        Sheet("盤點明細", title, COLUMNS, lines, totals=True, totals_label="合計"),
        Sheet("匯總", f"{title} 匯總", SUMMARY_COLUMNS, [[t.items, t.counted, t.shortages, t.surpluses, t.book_value,
                                                        t.counted_value, t.difference_value, t.shortage_value, t.surplus_value]]),
    ]


async def report_file(session: AsyncSession, *, actor: Actor, fmt: str, encoding: CsvEncoding = "utf-8",
                      stocktake_id: uuid.UUID | None = None, estate_id: uuid.UUID | None = None,
                      month: str = "") -> tuple[bytes, str, str]:
    """A count's report (by its id), or an estate's month's, as CSV or XLSX: bytes, media type, file name."""
    if stocktake_id is not None:
        report = await stocktake_report(session, actor=actor, stocktake_id=stocktake_id)
    else:
        assert estate_id is not None
        report = await month_report(session, actor=actor, estate_id=estate_id, month=month)
    estate = await session.get(Estate, report.estate_id)
    assert estate is not None
    tz, stem = estate_time.estate_zone(estate), f"stocktake-{report.stocktake.reference}"
    if fmt == "csv":
        return spreadsheet.to_csv(sheets(report), tz=tz, encoding=encoding), spreadsheet.csv_media_type(encoding), f"{stem}.csv"
    return spreadsheet.to_xlsx(sheets(report), tz=tz), spreadsheet.XLSX_MEDIA_TYPE, f"{stem}.xlsx"
