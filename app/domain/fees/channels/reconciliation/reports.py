"""The reconciliation report of a day and of a month, as JSON and as CSV / XLSX with Chinese headers.

A day: the statement's totals (settled, refunds, fees, net settlement), what was booked here as
paid that day, the count and amount of each category, and the day's items with their state. A
month: a row per imported day with the same figures, totals, and the past days with no statement.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import spreadsheet
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Invalid
from app.domain.fees.channels.model import Channel, ChannelPayment, ChannelPaymentState
from app.domain.fees.channels.reconciliation.model import (
    CATEGORY_NAMES,
    ChannelStatement,
    ItemState,
    MatchCategory,
    ReconciliationItem,
    StatementLine,
)
from app.domain.fees.channels.reconciliation.schemas import (
    CategoryCounts,
    CategoryFigures,
    DayReport,
    MonthDay,
    MonthReport,
)
from app.domain.fees.channels.reconciliation.service import item_read
from app.domain.registry.model import Estate
from app.domain.registry.service import check_estate
from app.domain.spreadsheet import Column, CsvEncoding, Kind, Sheet

ZERO = Decimal("0.00")
MONEY, INT = Kind.money, Kind.int
CHANNEL_NAMES = {Channel.wechat: "微信支付"}
STATE_NAMES = {ItemState.open: "未处理", ItemState.booked: "已入账", ItemState.refunded: "已退款", ItemState.explained: "已说明"}
KIND_NAMES = {"payment": "支付", "refund": "退款"}


class InvalidReportMonth(Invalid):
    title = "Not a month of the office's calendar"
    title_zh = "不是有效的月份"


@dataclass(frozen=True)
class ReportFile:
    body: bytes
    media_type: str
    filename: str


async def _open_items(session: AsyncSession, estate_id: uuid.UUID, channel: Channel, first: date, last: date) -> dict[date, int]:
    stmt = (select(ReconciliationItem.day, func.count()).where(
        ReconciliationItem.estate_id == estate_id, ReconciliationItem.channel == channel.value,
        ReconciliationItem.status == ItemState.open.value, ReconciliationItem.day.between(first, last))
        .group_by(ReconciliationItem.day))
    return {d: n for d, n in (await session.execute(stmt)).all()}


async def _booked_total(session: AsyncSession, estate: Estate, channel: Channel, day: date) -> Decimal:
    start, end = estate_time.day_bounds(day, estate_time.estate_zone(estate))
    stmt = select(func.coalesce(func.sum(ChannelPayment.amount), ZERO)).where(
        ChannelPayment.estate_id == estate.id, ChannelPayment.channel == channel.value,
        ChannelPayment.status == ChannelPaymentState.paid.value, ChannelPayment.paid_at >= start, ChannelPayment.paid_at < end)
    return Decimal((await session.execute(stmt)).scalar_one())


async def _line_kinds(session: AsyncSession, statement_id: uuid.UUID) -> dict[str, int]:
    stmt = select(StatementLine.kind, func.count()).where(StatementLine.statement_id == statement_id).group_by(StatementLine.kind)
    return {k: n for k, n in (await session.execute(stmt)).all()}


async def day_report(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, channel: Channel, day: date) -> tuple[Estate, DayReport]:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    row = (await session.execute(select(ChannelStatement).where(
        ChannelStatement.estate_id == estate.id, ChannelStatement.channel == channel.value,
        ChannelStatement.day == day))).scalar_one_or_none()
    items = (await session.execute(select(ReconciliationItem).where(
        ReconciliationItem.estate_id == estate.id, ReconciliationItem.channel == channel.value, ReconciliationItem.day == day)
        .order_by(ReconciliationItem.category, ReconciliationItem.reference))).scalars().all()
    kinds = await _line_kinds(session, row.id) if row else {}
    counts, amounts = (row.counts, row.amounts) if row else ({}, {})
    by_category = [CategoryFigures(category=c, name=CATEGORY_NAMES[c], count=counts.get(c.value, 0),
                                   amount=Decimal(amounts.get(c.value, "0.00"))) for c in MatchCategory]
    return estate, DayReport(
        estate_id=estate.id, estate_name=estate.name, channel=channel, day=day, imported=row is not None,
        source=row.source if row else None, imported_at=row.imported_at if row else None, lines=row.line_count if row else 0,
        payments=kinds.get("payment", 0), refunds=kinds.get("refund", 0),
        settled_total=row.settled_total if row else ZERO, refund_total=row.refund_total if row else ZERO,
        fee_total=row.fee_total if row else ZERO, net=row.net if row else ZERO,
        booked_total=await _booked_total(session, estate, channel, day), by_category=by_category,
        open_items=sum(1 for i in items if i.status == ItemState.open), items=[item_read(i) for i in items])


def _month_days(month: str) -> tuple[date, date]:
    try:
        return estate_time.month_days(month)
    except ValueError:
        raise InvalidReportMonth(f"{month!r} is not a month", field="month") from None


async def month_report(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, channel: Channel,
                       month: str) -> tuple[Estate, MonthReport]:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    first, last = _month_days(month)
    rows = (await session.execute(select(ChannelStatement).where(
        ChannelStatement.estate_id == estate.id, ChannelStatement.channel == channel.value,
        ChannelStatement.day.between(first, last)).order_by(ChannelStatement.day))).scalars().all()
    open_by_day = await _open_items(session, estate.id, channel, first, last)
    days = [MonthDay(day=r.day, lines=r.line_count, counts=CategoryCounts(**r.counts), settled_total=r.settled_total,
                     refund_total=r.refund_total, fee_total=r.fee_total, net=r.net, open_items=open_by_day.get(r.day, 0))
            for r in rows]
    today = estate_time.today(estate_time.estate_zone(estate), now=utcnow())
    have = {r.day for r in rows}
    missing = [first + timedelta(days=n) for n in range((min(last + timedelta(days=1), today) - first).days)
               if first + timedelta(days=n) not in have]
    totals = {c: sum(getattr(d.counts, c) for d in days) for c in CategoryCounts.model_fields}
    return estate, MonthReport(
        estate_id=estate.id, estate_name=estate.name, channel=channel, month=month, days=days, days_without_statement=missing,
        counts=CategoryCounts(**totals), settled_total=sum((d.settled_total for d in days), ZERO),
        refund_total=sum((d.refund_total for d in days), ZERO), fee_total=sum((d.fee_total for d in days), ZERO),
        net=sum((d.net for d in days), ZERO), open_items=sum(open_by_day.values()))


# --- files --------------------------------------------------------------------------------------

ITEM_COLUMNS = [Column("类别"), Column("类型"), Column("渠道单号"), Column("商户订单号"), Column("渠道金额", MONEY),
                Column("本系统金额", MONEY), Column("渠道状态"), Column("本系统状态"), Column("处理状态"), Column("处理说明"),
                Column("处理时间", Kind.datetime)]
MONTH_COLUMNS = [Column("日期", Kind.date), Column("交易笔数", INT, total=True),
                 *[Column(CATEGORY_NAMES[c], INT, total=True) for c in MatchCategory],
                 Column("应结订单金额", MONEY), Column("退款金额", MONEY), Column("手续费", MONEY), Column("净结算金额", MONEY),
                 Column("未处理差异", INT, total=True)]


def day_sheets(r: DayReport) -> list[Sheet]:
    heading = f"{r.estate_name} {CHANNEL_NAMES[r.channel]}对账报表 {r.day}"
    summary = Sheet("汇总", heading, [Column("日期", Kind.date), Column("已导入对账单"), Column("交易笔数", INT),
                                      Column("应结订单总金额", MONEY), Column("退款总金额", MONEY), Column("手续费总金额", MONEY),
                                      Column("净结算金额", MONEY), Column("本系统入账金额", MONEY), Column("未处理差异", INT)],
                    [[r.day, "是" if r.imported else "否", r.lines, r.settled_total, r.refund_total, r.fee_total, r.net,
                      r.booked_total, r.open_items]])
    categories = Sheet("按类别", f"{heading} 按类别", [Column("类别"), Column("笔数", INT, total=True), Column("金额", MONEY)],
                       [[c.name, c.count, c.amount] for c in r.by_category], totals=True)
    items = Sheet("差异明细", f"{heading} 差异明细", ITEM_COLUMNS,
                  [[CATEGORY_NAMES[i.category], KIND_NAMES.get(i.kind, i.kind), i.reference, i.out_trade_no, i.channel_amount,
                    i.booked_amount, i.channel_status, i.booked_status, STATE_NAMES[i.status], i.note, i.resolved_at]
                   for i in r.items])
    return [summary, categories, items]


def month_sheets(r: MonthReport) -> list[Sheet]:
    heading = f"{r.estate_name} {CHANNEL_NAMES[r.channel]}月度对账报表 {r.month}"
    rows: list[list[Any]] = [[d.day, d.lines, *[getattr(d.counts, c.value) for c in MatchCategory], d.settled_total,
                              d.refund_total, d.fee_total, d.net, d.open_items] for d in r.days]
    return [Sheet("按日", heading, MONTH_COLUMNS, rows, totals=True),
            Sheet("未导入日期", f"{heading} 未导入对账单的日期", [Column("日期", Kind.date)],
                  [[d] for d in r.days_without_statement])]


def _file(sheets: list[Sheet], *, estate: Estate, fmt: str, stem: str, encoding: CsvEncoding) -> ReportFile:
    tz = estate_time.estate_zone(estate)
    if fmt == "csv":
        return ReportFile(spreadsheet.to_csv(sheets, tz=tz, encoding=encoding), spreadsheet.csv_media_type(encoding), f"{stem}.csv")
    return ReportFile(spreadsheet.to_xlsx(sheets, tz=tz), spreadsheet.XLSX_MEDIA_TYPE, f"{stem}.xlsx")


def _stem(estate: Estate, channel: Channel, period: str) -> str:
    code = re.sub(r"[^A-Za-z0-9_-]", "", estate.code) or "estate"
    return f"reconciliation-{channel.value}-{code}-{period}"


async def day_file(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, channel: Channel, day: date, fmt: str,
                   encoding: CsvEncoding = "utf-8") -> ReportFile:
    estate, report = await day_report(session, actor=actor, estate_id=estate_id, channel=channel, day=day)
    return _file(day_sheets(report), estate=estate, fmt=fmt, stem=_stem(estate, channel, day.isoformat()), encoding=encoding)


async def month_file(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, channel: Channel, month: str, fmt: str,
                     encoding: CsvEncoding = "utf-8") -> ReportFile:
    estate, report = await month_report(session, actor=actor, estate_id=estate_id, channel=channel, month=month)
    return _file(month_sheets(report), estate=estate, fmt=fmt, stem=_stem(estate, channel, month), encoding=encoding)
