"""The repair task sheet (维修任务单, §7.3.8) on paper, for a technician who works without the app.

A4 portrait: the job and where it is, whom to ring, the booked window, blank lines for the
materials used and the work done, boxes to tick for the result, and the signatures. Printed
from the same task sheet the JSON endpoint serves, so the two never disagree.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.documents import page, parts
from app.domain.documents.letterhead import printing_by, render_for
from app.domain.registry.model import Estate
from app.domain.repairs.model import WorkOrder
from app.domain.repairs.orders import reading
from app.domain.repairs.orders.schemas import TaskSheet
from app.domain.repairs.paperwork.daily_log import STATE_NAMES
from app.domain.repairs.paperwork.printed import URGENCY_NAMES, category_names

SIZE = page.A4_PORTRAIT
WIDTH = SIZE[0] - 2 * page.MARGIN
MATERIAL_HEADER = ["序号", "材料名称及规格", "单位", "数量", "单价（元）", "金额（元）", "备注"]
MATERIAL_WIDTHS = [w * mm for w in (12, 62, 16, 18, 24, 24, 30)]


def _job(sheet: TaskSheet, *, category: str, issued: str) -> list[Flowable]:
    place = sheet.unit_label or sheet.location or "—"
    pairs: list[tuple[str, str | None]] = [
        ("任务单号", sheet.number), ("报修单号", sheet.request_number), ("派工时间", issued),
        ("维修地址", place), ("报修类别", category),
        ("业主/联系人", sheet.contact_name), ("联系电话", sheet.contact_phone),
        ("预约时间", sheet.scheduled_window), ("紧急程度", URGENCY_NAMES[sheet.urgency]),
        ("维修人员", sheet.technician_name), ("当前状态", STATE_NAMES[sheet.status]),
    ]
    return [parts.fields(pairs, width=WIDTH),
            parts.gap(2),
            parts.grid(["报修内容"], [[sheet.description or "—"]], widths=[WIDTH])]


def _materials(sheet: TaskSheet) -> list[Flowable]:
    blank = [[str(n), m.item, "", m.quantity, "", "", ""] for n, m in enumerate(sheet.materials, 1)]
    return [parts.text("所用材料（由维修人员填写）", parts.STRONG),
            parts.grid(MATERIAL_HEADER, blank, widths=MATERIAL_WIDTHS, right=[4, 5], total=["", "合计", "", "", "", "", ""])]


def _result() -> list[Flowable]:
    return [
        parts.text("到场时间：____________    完工时间：____________    用时：________ 分钟", parts.CELL),
        parts.gap(2),
        parts.ruled(6, width=WIDTH, label="维修情况（由维修人员填写）："),
        parts.gap(3),
        parts.choices("维修结果", ["已修复", "需再次上门", "需更换配件", "无法修复（原因见上）"]),
        parts.gap(2),
        parts.choices("是否有偿", ["无偿", "有偿，金额：________ 元"]),
        parts.gap(2),
        parts.choices("业主意见", ["满意", "基本满意", "不满意"]),
    ]


def layout(sheet: TaskSheet, *, category: str, issued: str) -> page.Layout:
    story = [*_job(sheet, category=category, issued=issued), parts.gap(4), *_materials(sheet), parts.gap(4), *_result(),
             parts.gap(4), parts.signatures(["技术员", "业主确认", "日期"], width=WIDTH)]
    return page.Layout(title="维修任务单", number=sheet.number, size=SIZE,
                       subject=f"维修任务单 {sheet.unit_label or sheet.location}", copies=[page.Copy(label=None, story=story)])




async def task_sheet_pdf(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID,
                         now: datetime | None = None) -> tuple[str, bytes]:
    """The sheet's file name and bytes; whoever may read the order (a technician: his own) may print it."""
    sheet = await reading.task_sheet(session, actor=actor, order_id=order_id)
    order = await session.get(WorkOrder, sheet.order_id)  # loaded, and its visibility checked, by task_sheet
    estate = await session.get(Estate, order.estate_id) if order else None
    assert estate is not None
    names = await category_names(session, estate_id=estate.id)
    category = names.get(sheet.category, sheet.category)
    pdf = await render_for(session, estate=estate, printing=printing_by(actor, estate=estate, now=now),
                           build=lambda _: layout(sheet, category=category, issued=parts.when(sheet.issued_at, sheet.time_zone)))
    return f"task-sheet-{sheet.number}.pdf", pdf
