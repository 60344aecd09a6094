"""Per-estate time to resolve a complaint, by severity (editable; defaults in model.DEFAULT_WINDOWS)."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.complaints.model import DEFAULT_WINDOWS, ComplaintDeadline, Severity, Window, WindowUnit
from app.domain.complaints.schemas import DeadlinesRead, DeadlinesWrite, WindowRead
from app.domain.errors import Invalid
from app.domain.registry.service import check_estate

# Most severe first: each must allow no more time than the next.
ORDER = (Severity.urgent, Severity.high, Severity.normal, Severity.low)


class DeadlinesOutOfOrder(Invalid):
    title = "A more severe complaint cannot be given more time than a less severe one"
    title_zh = "较严重的投诉不能比较轻的投诉给予更长的处理时限"


async def _rows(session: AsyncSession, *, estate_id: uuid.UUID, lock: bool = False,
                refresh: bool = False) -> dict[Severity, ComplaintDeadline]:
    stmt = select(ComplaintDeadline).where(ComplaintDeadline.estate_id == estate_id)
    if lock:
        stmt = stmt.with_for_update()
    if refresh:
        stmt = stmt.execution_options(populate_existing=True)
    return {Severity(r.severity): r for r in (await session.execute(stmt)).scalars()}


async def windows(session: AsyncSession, *, estate_id: uuid.UUID) -> dict[Severity, Window]:
    rows = await _rows(session, estate_id=estate_id)
    return {s: Window(rows[s].amount, WindowUnit(rows[s].unit)) if s in rows else DEFAULT_WINDOWS[s] for s in Severity}


def _record(estate_id: uuid.UUID) -> str:
    # Four rows, one record: edited (and versioned) together.
    return versions.key("complaint_deadlines", estate_id)


def _read(estate_id: uuid.UUID, rows: dict[Severity, ComplaintDeadline], version: int) -> DeadlinesRead:
    def one(s: Severity) -> WindowRead:
        if s in rows:
            return WindowRead(amount=rows[s].amount, unit=WindowUnit(rows[s].unit), is_default=False)
        return WindowRead(amount=DEFAULT_WINDOWS[s].amount, unit=DEFAULT_WINDOWS[s].unit, is_default=True)

    stamps = [r.updated_at for r in rows.values() if r.updated_at is not None]
    return DeadlinesRead(estate_id=estate_id, **{s.value: one(s) for s in Severity}, updated_at=max(stamps, default=None),
                         version=version)


async def get_deadlines(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> DeadlinesRead:
    await check_estate(session, actor=actor, estate_id=estate_id)
    return _read(estate_id, await _rows(session, estate_id=estate_id), await versions.current(session, _record(estate_id)))


def _hours(window: Window) -> int:
    # Compared by their nominal span: n days count as 24n hours.
    return window.amount if window.unit is WindowUnit.hours else 24 * window.amount


def _check_order(data: DeadlinesWrite) -> None:
    spans = [_hours(Window(getattr(data, s.value).amount, getattr(data, s.value).unit)) for s in ORDER]
    for i in range(len(ORDER) - 1):
        if spans[i] > spans[i + 1]:
            raise DeadlinesOutOfOrder(f"{ORDER[i].value} allows more time than {ORDER[i + 1].value}", field=ORDER[i].value)


async def put_deadlines(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: DeadlinesWrite, expected_version: int | None = None,
) -> DeadlinesRead:
    """Replace all four; applies to complaints registered (or reopened) from now on."""
    await check_estate(session, actor=actor, estate_id=estate_id)
    _check_order(data)
    await versions.claim(session, _record(estate_id), expected_version=expected_version)
    rows = await _rows(session, estate_id=estate_id, lock=True)
    before = {s.value: snapshot(r) for s, r in rows.items()}
    now = utcnow()
    values = [{"id": uuid.uuid4(), "created_at": now, "estate_id": estate_id, "severity": s.value,
               "amount": getattr(data, s.value).amount, "unit": getattr(data, s.value).unit.value,
               "updated_at": now, "updated_by": actor.id} for s in Severity]
    # An upsert: two first saves at once must not fail on the unique key.
    stmt = pg_insert(ComplaintDeadline).values(values)
    stmt = stmt.on_conflict_do_update(index_elements=["estate_id", "severity"], set_={
        "amount": stmt.excluded.amount, "unit": stmt.excluded.unit, "updated_at": now, "updated_by": actor.id})
    await session.execute(stmt)
    rows = await _rows(session, estate_id=estate_id, refresh=True)
    await audit.record(session, actor=actor, action="complaint_deadline.update", entity="complaint_deadline",
                       entity_id=estate_id, estate_id=estate_id, before=before or None,
                       after={s.value: snapshot(r) for s, r in rows.items()})
    return _read(estate_id, rows, await versions.bump(session, _record(estate_id)))
