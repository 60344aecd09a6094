"""The stocktake report for finance (§5.7): per item book, counted, difference in quantity and money.

For a posted count the figures are fixed (costs frozen at posting); for one in progress they
are live. The month's report is the month's posted count, or the one still in progress.
"""
from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import spreadsheet
from app.domain.auth.principal import Actor
from app.domain.registry import service as registry_service
from app.domain.registry.model import Estate
from app.domain.stock import stocktake as counts
from app.domain.stock.model import CENT, QTY, Stocktake, StocktakeStatus
from app.domain.stock.schemas import StocktakeLineRead, StocktakeRead, StocktakeReport, StocktakeTotals
from app.domain.visibility import load_visible

ZERO = Decimal("0.00")
CSV_HEADERS = ["序號", "編碼", "名稱", "單位", "開盤帳存", "期間變動", "帳面數量", "實盤數量", "差異數量", "單價",
               "帳面金額", "實盤金額", "差異金額", "備註"]
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


def _q(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(QTY)


def _m(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def to_csv(report: StocktakeReport) -> bytes:
    """UTF-8 with a BOM, so Excel on a Chinese office PC opens it without mojibake."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    st = report.stocktake
    row = spreadsheet.csv_row
    status = STATUS_NAMES.get(st.status.value, st.status.value)
    writer.writerow(row([f"{report.estate_name} 庫存盤點表", st.reference, st.month, status]))
    writer.writerow(CSV_HEADERS)
    for n, line in enumerate(report.lines, 1):
        writer.writerow(row([n, line.code, line.name, line.unit, _q(line.snapshot_quantity), _q(line.movements_since),
                             _q(line.book_quantity), _q(line.counted_quantity), _q(line.difference), _m(line.unit_cost),
                             _m(line.book_value), _m(line.counted_value), _m(line.difference_value), line.note]))
    t = report.totals
    writer.writerow(row(["合計", "", f"{t.counted}/{t.items} 已盤", "", "", "", "", "", "", "", _m(t.book_value),
                         _m(t.counted_value), _m(t.difference_value), f"盤虧 {_m(t.shortage_value)} 盤盈 {_m(t.surplus_value)}"]))
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def csv_filename(report: StocktakeReport) -> str:
    return f"stocktake-{report.stocktake.reference}.csv"
