"""The daily repair log (报修记录本, §5.6) on paper: A4 landscape, the CSV's columns, the day's counts.

Printed from the same log the JSON and CSV serve (the job's stored copy when there is one),
so the book on the shelf and the file on the PC list the same orders.
"""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime

from reportlab.lib.units import mm
from reportlab.platypus import Flowable
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.documents import page, parts
from app.domain.documents.letterhead import printing_by, render_for
from app.domain.registry.model import Estate
from app.domain.repairs.paperwork import daily_log
from app.domain.repairs.paperwork.daily_log import STATE_NAMES
from app.domain.repairs.paperwork.printed import category_names
from app.domain.repairs.paperwork.schemas import DailyLog, DailyLogRow

SIZE = page.A4_LANDSCAPE
WIDTH = SIZE[0] - 2 * page.MARGIN
HEADER = ["序号", "任务单号", "登记时间", "类别", "位置", "报修内容", "公共区域", "维修人员", "派工时间", "开工时间", "完工时间",
          "当日动态", "收工时状态"]
WIDTHS = [w * mm for w in (12, 38, 21, 14, 24, 26, 18, 18, 21, 21, 21, 19, 20)]
EVENT_NAMES = {"created": "登记", "dispatched": "派工", "started": "开工", "completed": "完工", "cancelled": "取消"}


def _at(at: datetime | None, tz: str) -> str:
    return parts.when(at, tz, "%m-%d %H:%M")  # the day is the log's own: month-day keeps the columns narrow


def _row(n: int, r: DailyLogRow, *, tz: str, categories: dict[str, str]) -> list[str]:
    return [str(n), r.number or r.work_order_id.hex[:8].upper(), _at(r.created_at, tz), categories.get(r.category, r.category), r.place,
            r.description, "是" if r.is_public_area else "否", r.technician_name or "", _at(r.dispatched_at, tz),
            _at(r.started_at, tz), _at(r.completed_at, tz), "、".join(EVENT_NAMES[e] for e in r.events),
            STATE_NAMES[r.state_at_close]]


def _counts(log: DailyLog) -> str:
    """The day in figures: how many orders, by what happened that day and by their state at the close."""
    events = Counter(e for r in log.rows for e in r.events)
    states = Counter(r.state_at_close for r in log.rows)
    happened = "、".join(f"{name} {events[key]}" for key, name in EVENT_NAMES.items() if events[key])
    at_close = "、".join(f"{name} {states[s]}" for s, name in STATE_NAMES.items() if states[s])
    return f"共 {len(log.rows)} 单。当日：{happened or '无'}。收工时：{at_close or '无'}。"


def layout(log: DailyLog, *, tz: str, categories: dict[str, str], office_name: str) -> page.Layout:
    source = f"收工后汇编于 {_at(log.compiled_at, tz)}" if log.source == "stored" and log.compiled_at else "即时生成"
    head = parts.fields([("日期", log.day.isoformat()), ("收工时间", _at(log.close_at, tz)[6:]), ("记录来源", source),
                         ("管理处", office_name)], width=WIDTH, columns=4)
    rows = [_row(n, r, tz=tz, categories=categories) for n, r in enumerate(log.rows, 1)]
    story: list[Flowable] = [head, parts.gap(2)]
    story.append(parts.grid(HEADER, rows, widths=WIDTHS) if rows else parts.text("当日无报修记录。", parts.CELL))
    story += [parts.gap(2), parts.text(_counts(log), parts.STRONG), parts.gap(4),
              parts.signatures(["记录人", "审阅（主管）", "日期"], width=WIDTH)]
    return page.Layout(title="报修记录本", size=SIZE, subject=f"报修记录本 {log.day.isoformat()}",
                       copies=[page.Copy(label=None, story=story)])


async def daily_log_pdf(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date | None,
                        now: datetime | None = None) -> tuple[str, bytes]:
    log = await daily_log.daily_log(session, actor=actor, estate_id=estate_id, day=day)
    estate = await session.get(Estate, log.estate_id)
    assert estate is not None
    categories = await category_names(session, estate_id=estate.id)
    pdf = await render_for(session, estate=estate, printing=printing_by(actor, estate=estate, now=now),
                           build=lambda _: layout(log, tz=estate.time_zone, categories=categories, office_name=estate.office_name))
    return f"repair-log-{log.day.isoformat()}.pdf", pdf
