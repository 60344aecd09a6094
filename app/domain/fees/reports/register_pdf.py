"""The Saturday register (周收费登记表, §5.5) on paper for the supervisor: A4 landscape.

The CSV's columns line by line with the week's total, then the totals by fee item, by
method and by receptionist, the counts, and the lines to sign. Printed from the same
register the JSON, CSV and XLSX serve.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.documents import page, parts
from app.domain.documents.letterhead import printing_by, render_for
from app.domain.fees.payments.model import METHOD_NAMES, SERIES_NAMES, STATUS_NAMES, ReceiptSeries
from app.domain.fees.reports import saturday_register as register
from app.domain.fees.reports.schemas import RegisterLine, SaturdayRegister
from app.domain.registry.model import Estate

SIZE = page.A4_LANDSCAPE
WIDTH = SIZE[0] - 2 * page.MARGIN
HEADER = ["序号", "收据号", "类别", "开具时间", "房号", "交款人", "收费项目", "收款方式", "金额", "计入金额", "收款人", "状态", "作废原因"]
WIDTHS = [w * mm for w in (12, 39, 12, 23, 26, 20, 37, 18, 20, 20, 16, 12, 18)]


def _settled(line: RegisterLine) -> str:
    """What the receipt settled, one part a line: 物业管理费(2026-11) 160.56."""
    parts_ = [f"{p.fee_item_name}({p.period}) {parts.money(p.amount)}" if p.period else f"{p.fee_item_name} {parts.money(p.amount)}"
              for p in line.settled]
    if line.credit:
        parts_.append(f"{register.CREDIT_NAME} {parts.money(line.credit)}")
    if line.series is ReceiptSeries.refund:
        parts_.append(register.REFUND_NAME)
    return "\n".join(parts_)


def _lines(report: SaturdayRegister, tz: str) -> Flowable:
    rows = [[str(n), r.number, SERIES_NAMES[r.series], estate_time.local_time(r.issued_at, tz).strftime("%m-%d %H:%M"),
             r.unit_label, r.payer, _settled(r), METHOD_NAMES[r.method], parts.money(r.amount), parts.money(r.counted),
             r.cashier_name, STATUS_NAMES[r.status], r.void_reason] for n, r in enumerate(report.lines, 1)]
    total = ["", "本周合计", "", "", "", "", "", "", "", parts.money(report.grand_total), "", "", ""]
    return parts.grid(HEADER, rows, widths=WIDTHS, right=[8, 9], total=total)


def _summaries(report: SaturdayRegister) -> list[Flowable]:
    third = (WIDTH - 8 * mm) / 3
    item = parts.grid(["收费项目", "金额", "笔数"], [[t.name, parts.money(t.amount), str(t.receipts)] for t in report.by_fee_item],
                      widths=[third * 0.5, third * 0.3, third * 0.2], right=[1, 2], total=["合计", parts.money(report.grand_total), ""])
    method = parts.grid(["收款方式", "金额", "笔数"], [[t.name, parts.money(t.amount), str(t.receipts)] for t in report.by_method],
                        widths=[third * 0.5, third * 0.3, third * 0.2], right=[1, 2], total=["合计", parts.money(report.grand_total), ""])
    cashier = parts.grid(["收款人", "金额", "笔数", "作废"],
                         [[t.name, parts.money(t.amount), str(t.receipts), str(t.voided)] for t in report.by_cashier],
                         widths=[third * 0.35, third * 0.3, third * 0.175, third * 0.175], right=[1, 2, 3],
                         total=["合计", parts.money(report.grand_total), "", ""])
    c = report.counts
    counts = (f"明细 {c.lines} 行：收据 {c.receipts} 张，退款 {c.refunds} 张，作废 {c.voided} 张；"
              f"本周合计 {parts.money(report.grand_total)} 元（作废不计，退款为负）。")
    # The three summaries side by side, so the register and its totals usually share a page.
    cells = [[parts.text(title, parts.STRONG), table] for title, table in
             (("按收费项目汇总", item), ("按收款方式汇总", method), ("按收款人汇总", cashier))]
    side_by_side = Table([cells], colWidths=[third + 8 * mm / 3] * 3, hAlign="LEFT")
    side_by_side.setStyle(parts.table_style([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                      ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 8 * mm / 3)]))
    return [side_by_side, parts.gap(3), parts.text(counts, parts.STRONG)]


def layout(report: SaturdayRegister, *, tz: str) -> page.Layout:
    as_of = estate_time.local_time(report.as_of, tz).strftime("%Y-%m-%d %H:%M")
    head = parts.fields([("周次", report.week), ("起止", f"{report.first_day.isoformat()} 至 {report.last_day.isoformat()}"),
                         ("小区", report.estate_name), ("数据截至", as_of)], width=WIDTH, columns=4)
    story: list[Flowable] = [head, parts.gap(2)]
    story.append(_lines(report, tz) if report.lines else parts.text("本周无收据。", parts.CELL))
    story += [parts.gap(3), *_summaries(report), parts.gap(1), parts.signatures(["制表（前台）", "审核（主管）", "日期"], width=WIDTH)]
    return page.Layout(title="周收费登记表", number=report.week, size=SIZE, subject=f"周收费登记表 {report.week}",
                       copies=[page.Copy(label=None, story=story)])


def _filename(estate: Estate, week: str) -> str:
    code = re.sub(r"[^A-Za-z0-9_-]", "", estate.code) or "estate"  # Content-Disposition wants ASCII
    return f"saturday-register-{code}-{week}.pdf"


async def register_pdf(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, week: str | None,
                       now: datetime | None = None) -> tuple[str, bytes]:
    estate, report = await register.saturday_register(session, actor=actor, estate_id=estate_id, week=week)
    pdf = await render_for(session, estate=estate, printing=printing_by(actor, estate=estate, now=now),
                           build=lambda _: layout(report, tz=estate.time_zone))
    return _filename(estate, report.week), pdf
