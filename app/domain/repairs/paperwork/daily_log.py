"""The daily repair log (報修記錄本, §5.6): every order of the local day with its state at
the close of office hours. The job compiles and stores it just after the close; for a
day it did not compile, the log is computed from the orders' timestamps."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import spreadsheet
from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.base import by_id_in_estate, jsonable, utcnow
from app.domain.calendar import estate_time
from app.domain.registry import service as registry
from app.domain.registry.model import Building, Estate, Unit
from app.domain.registry.names import place
from app.domain.repairs.intake.model import RepairCategory
from app.domain.repairs.model import OPEN_ORDER_STATES, ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.paperwork.model import DailyRepairLog
from app.domain.repairs.paperwork.schemas import DailyLog, DailyLogRow
from app.domain.spreadsheet import Column, CsvEncoding, Kind, Sheet

S = WorkOrderStatus
# Latest milestone first: the first one reached by the close is the state at the close.
_MILESTONES = [("cancelled_at", S.cancelled), ("archived_at", S.archived), ("approved_at", S.approved),
               ("callback_done_at", S.callback_done), ("completed_at", S.completed), ("started_at", S.in_progress),
               ("dispatched_at", S.dispatched)]
_EVENTS = [("created_at", "created"), ("dispatched_at", "dispatched"), ("started_at", "started"),
           ("completed_at", "completed"), ("cancelled_at", "cancelled")]
STATE_NAMES = {
    S.pending_dispatch: "待派工", S.awaiting_technician_confirmation: "待維修人員確認", S.dispatched: "已派工",
    S.in_progress: "維修中", S.completed: "已完工", S.callback_done: "已回訪", S.approved: "已審批",
    S.archived: "已歸檔", S.cancelled: "已取消", S.reopened: "重新處理",
}
EVENT_NAMES = {"created": "登記", "dispatched": "派工", "started": "開工", "completed": "完工", "cancelled": "取消"}
COLUMNS = [Column("序號", Kind.int), Column("任務單號"), Column("登記時間", Kind.datetime), Column("類別"), Column("位置"),
           Column("報修內容"), Column("公共區域"), Column("維修人員"), Column("派工時間", Kind.datetime),
           Column("開工時間", Kind.datetime), Column("完工時間", Kind.datetime), Column("當日動態"), Column("收工時狀態")]
CSV_HEADERS = [c.header for c in COLUMNS]


def state_at(order: WorkOrder, close: datetime, now: datetime) -> WorkOrderStatus:
    """The order's state at `close`, read back from its timestamps once the close has passed.

    A reopened order lost its earlier timestamps; it then reads as its current open state.
    """
    current = WorkOrderStatus(order.status)
    if close >= now:
        return current
    for attr, state in _MILESTONES:
        at = getattr(order, attr)
        if at is not None and at <= close:
            return state
    return current if current in (S.awaiting_technician_confirmation, S.reopened) else S.pending_dispatch


def close_of(estate: Estate, day: date) -> datetime:
    return datetime.combine(day, estate.afternoon_close, tzinfo=estate_time.estate_zone(estate))


async def compute_rows(session: AsyncSession, *, estate: Estate, day: date) -> list[DailyLogRow]:
    start, end = estate_time.day_bounds(day, estate_time.estate_zone(estate))
    close, now = close_of(estate, day), utcnow()
    touched = [(getattr(WorkOrder, attr) >= start) & (getattr(WorkOrder, attr) < end) for attr, _ in _EVENTS]
    # Orders that may still have been open at the close; state_at settles it below.
    maybe_open = [WorkOrder.status.in_([s.value for s in OPEN_ORDER_STATES]), WorkOrder.completed_at > close,
                  WorkOrder.cancelled_at > close]
    # The technician is read per row: a join by id hashed every user of the company.
    technician = select(User.full_name).where(User.id == WorkOrder.technician_id).scalar_subquery()
    stmt = (
        select(WorkOrder, ServiceRequest, Unit, Building, technician)
        .join(ServiceRequest, ServiceRequest.id == WorkOrder.request_id)
        .outerjoin(Unit, by_id_in_estate(Unit, WorkOrder.unit_id, estate.id))
        .outerjoin(Building, by_id_in_estate(Building, Unit.building_id, estate.id))
        .where(WorkOrder.estate_id == estate.id, WorkOrder.created_at < end, or_(*touched, *maybe_open))
        .order_by(WorkOrder.created_at, WorkOrder.id)
    )
    rows = []
    for o, r, u, b, tech in (await session.execute(stmt)).all():
        events = [name for attr, name in _EVENTS if (at := getattr(o, attr)) is not None and start <= at < end]
        state = state_at(o, close, now)
        if not events and state not in OPEN_ORDER_STATES:
            continue
        rows.append(DailyLogRow(
            work_order_id=o.id, number=o.number, request_id=r.id, request_number=r.number, created_at=o.created_at,
            category=o.category, description=r.description,
            place=place(u, b, r.location, script=estate.script), is_public_area=o.is_public_area, technician_name=tech,
            dispatched_at=o.dispatched_at, started_at=o.started_at, completed_at=o.completed_at,
            cancelled_at=o.cancelled_at, events=events, state_at_close=state))
    return rows


async def compile_log(session: AsyncSession, *, estate: Estate, day: date) -> DailyRepairLog:
    """Store the day's log; compiling again replaces it (the job is idempotent)."""
    rows = [jsonable(r.model_dump()) for r in await compute_rows(session, estate=estate, day=day)]
    now = utcnow()
    await session.execute(
        insert(DailyRepairLog)
        .values(id=uuid.uuid4(), created_at=now, estate_id=estate.id, day=day, compiled_at=now, rows=rows)
        .on_conflict_do_update(index_elements=["estate_id", "day"], set_={"compiled_at": now, "rows": rows})
    )
    stored = (await session.execute(
        select(DailyRepairLog).where(DailyRepairLog.estate_id == estate.id, DailyRepairLog.day == day)
        .execution_options(populate_existing=True))).scalar_one()
    return stored


async def daily_log(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date | None) -> DailyLog:
    estate = await registry.check_estate(session, actor=actor, estate_id=estate_id)
    day = day or estate_time.today(estate)
    stored = (await session.execute(
        select(DailyRepairLog).where(DailyRepairLog.estate_id == estate.id, DailyRepairLog.day == day))).scalar_one_or_none()
    close = close_of(estate, day)
    if stored is not None:
        rows = [DailyLogRow.model_validate(r) for r in stored.rows]
        return DailyLog(estate_id=estate.id, day=day, close_at=close, source="stored", compiled_at=stored.compiled_at, rows=rows)
    rows = await compute_rows(session, estate=estate, day=day)
    return DailyLog(estate_id=estate.id, day=day, close_at=close, source="live", compiled_at=None, rows=rows)


def _sheet(log: DailyLog, *, estate: Estate, categories: dict[str, str]) -> Sheet:
    rows = [[n, r.number or str(r.work_order_id), r.created_at, spreadsheet.coded(categories.get(r.category, r.category), r.category),
             r.place, r.description, "是" if r.is_public_area else "否", r.technician_name or "", r.dispatched_at,
             r.started_at, r.completed_at, "、".join(EVENT_NAMES[e] for e in r.events), STATE_NAMES[r.state_at_close]]
            for n, r in enumerate(log.rows, 1)]
    return Sheet("報修記錄本", f"{estate.name} 報修記錄本 {log.day.isoformat()}", COLUMNS, rows)


async def daily_log_file(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date | None, fmt: str,
                         encoding: CsvEncoding = "utf-8") -> tuple[bytes, str, str]:
    """The log as CSV or XLSX: its bytes, media type and file name; categories by name and code."""
    log = await daily_log(session, actor=actor, estate_id=estate_id, day=day)
    estate = await session.get(Estate, log.estate_id)
    assert estate is not None
    categories = dict((await session.execute(select(RepairCategory.code, RepairCategory.name)
                                             .where(RepairCategory.estate_id == estate.id))).tuples().all())
    sheets, tz, name = [_sheet(log, estate=estate, categories=categories)], estate_time.estate_zone(estate), f"repair-log-{log.day}"
    if fmt == "csv":
        return spreadsheet.to_csv(sheets, tz=tz, encoding=encoding), spreadsheet.csv_media_type(encoding), f"{name}.csv"
    return spreadsheet.to_xlsx(sheets, tz=tz), spreadsheet.XLSX_MEDIA_TYPE, f"{name}.xlsx"
