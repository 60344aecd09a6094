"""Cashier sessions (交款, §5.4): the day's takings against the receipts, handed to finance.

Expected takings are computed from the session's receipts: a payment's amount is what the
office keeps (change already given back), a refund paid out counts against its method, a
receipt voided before hand-over counts for nothing. Once handed over the figures are fixed
in the session; a later void is booked as an adjustment in the void-er's current session,
so the receipt voided after hand-over still counts where it was taken. An adjustment is
reported in its own section (adjustments.py), never in the expected money of the drawer it
is booked in: that drawer did not take the money.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import any_, case, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor, system_actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Conflict, Forbidden, NotFound
from app.domain.fees.cash import adjustments as cash_adjustments
from app.domain.fees.cash.model import SESSION_TRANSITIONS, CashierSession, SessionAdjustment, SessionStatus
from app.domain.fees.cash.schemas import (
    CENT,
    Acknowledge,
    CashHandoverSheet,
    CashierSessionDetail,
    CashierSessionRead,
    HandOver,
    MethodLine,
    SessionReceiptLine,
)
from app.domain.fees.payments.model import DRAWER_METHODS, Payment, PaymentMethod, Receipt, ReceiptSeries, ReceiptStatus, Refund
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.registry.model import Estate
from app.domain.visibility import Visible, load_visible, own

ZERO = Decimal("0.00")
METHODS = DRAWER_METHODS  # a deduction from a prepaid account is in no drawer
# Those who answer for the money of the whole office see every drawer; the rest their own.
OVERSEERS = frozenset({Role.supervisor, Role.finance, Role.cs_director, Role.admin})
NOT_HANDED_OVER = CashierSession.audit_actions["flag_late"]
SUPERVISOR_ALERT = "cash.handover_alert"


class CashierSessionNotFound(NotFound):
    title = "Cashier session not found"
    title_zh = "未找到该收款班次"


class NotYourSession(Forbidden):
    title = "Only the session's own cashier, or a supervisor on their behalf, hands it over"
    title_zh = "只有该班次的收款员本人，或代其操作的主管，才能交班"


class OwnHandOverAcknowledged(Forbidden):
    title = "Finance may not acknowledge its own hand-over; another member of finance takes it"
    title_zh = "财务不能确认自己的交班，须由另一名财务人员接收"


class SessionHandedOver(Conflict):
    title = "The cashier session is already handed over; no payment joins it"
    title_zh = "该收款班次已交班，不能再加入收款"


class NoCashDrawer(Forbidden):
    title = "Only a person with a cash drawer has a cashier session"
    title_zh = "只有配有钱箱的人员才有收款班次"


def sees_all(actor: Actor) -> bool:
    return actor.is_system or any(actor.has_role(r) for r in OVERSEERS)


# A cashier sees only their own sessions; the overseers see every session of their estates.
CASHIER_SESSION = Visible(model=CashierSession, missing=CashierSessionNotFound, id_field="session_id",
                          narrow=lambda actor: None if sees_all(actor) else own(CashierSession.cashier_id, actor))


# --- the figures -------------------------------------------------------------------------

@dataclass
class Totals:
    expected: dict[PaymentMethod, Decimal] = field(default_factory=lambda: {m: ZERO for m in METHODS})
    receipts: dict[PaymentMethod, int] = field(default_factory=lambda: {m: 0 for m in METHODS})
    adjustments: dict[PaymentMethod, int] = field(default_factory=lambda: {m: 0 for m in METHODS})
    adjusted: dict[PaymentMethod, Decimal] = field(default_factory=lambda: {m: ZERO for m in METHODS})
    voids: int = 0


_METHOD = func.coalesce(Payment.method, Refund.method)
_SIGNED = case((Receipt.series == ReceiptSeries.refund.value, -Refund.amount), else_=Payment.amount)
# Issued, or voided after hand-over: that void is an adjustment elsewhere, not a change here.
# Told by the adjustment itself, not by comparing times: a void that queued behind the
# hand-over's lock, or was given its time by the caller, is on the side its money went to.
_COUNTED = or_(Receipt.status == ReceiptStatus.issued.value,
               exists().where(SessionAdjustment.receipt_id == Receipt.id))


def _receipts_of() -> Any:
    return (Receipt.__table__.join(CashierSession, CashierSession.id == Receipt.cashier_session_id)
            .outerjoin(Payment, Payment.id == Receipt.payment_id).outerjoin(Refund, Refund.id == Receipt.refund_id))


async def live_totals(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Totals]:
    """Each session's takings per method from its receipts, and its adjustments beside them: two grouped queries."""
    out = {i: Totals() for i in ids}
    if not ids:
        return out
    counted = _COUNTED.label("counted")
    stmt = (select(Receipt.cashier_session_id, _METHOD, counted, func.sum(_SIGNED), func.count())
            # Both sides named: with the receipts' side only, the planner hashed every cashier
            # session of the company (391,000 at full scale) to find these few.
            .select_from(_receipts_of()).where(Receipt.cashier_session_id.in_(ids), CashierSession.id.in_(ids))
            .group_by(Receipt.cashier_session_id, _METHOD, counted))
    for sid, method, is_counted, amount, n in (await session.execute(stmt)).all():
        t = out[sid]
        if not is_counted:
            t.voids += n
        elif method is not None:
            t.expected[PaymentMethod(method)] += amount or ZERO
            t.receipts[PaymentMethod(method)] += n
    adj = (select(SessionAdjustment.cashier_session_id, SessionAdjustment.method, func.sum(SessionAdjustment.amount), func.count())
           .where(SessionAdjustment.cashier_session_id.in_(ids))
           .group_by(SessionAdjustment.cashier_session_id, SessionAdjustment.method))
    for sid, method, amount, n in (await session.execute(adj)).all():
        out[sid].adjusted[PaymentMethod(method)] += amount
        out[sid].adjustments[PaymentMethod(method)] += n
    return out


def _expected_of(row: CashierSession, totals: Totals) -> dict[PaymentMethod, Decimal]:
    if row.is_locked:  # fixed at hand-over: the past is not rewritten
        return {m: Decimal(str(row.expected.get(m.value, "0"))).quantize(CENT) for m in METHODS}
    return {m: v.quantize(CENT) for m, v in totals.expected.items()}


async def _names(session: AsyncSession, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict((await session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))).all())


async def reads(session: AsyncSession, rows: Sequence[CashierSession]) -> list[CashierSessionRead]:
    totals = await live_totals(session, [r.id for r in rows])
    names = await _names(session, {i for r in rows for i in (r.cashier_id, r.acknowledged_by)})
    out = []
    for row in rows:
        t = totals[row.id]
        expected = _expected_of(row, t)
        out.append(CashierSessionRead(
            id=row.id, estate_id=row.estate_id, cashier_id=row.cashier_id, cashier_name=names.get(row.cashier_id, ""),
            day=row.day, status=row.status, expected=expected, expected_total=sum(expected.values(), ZERO),
            by_method=[MethodLine(method=m, expected=expected[m], receipts=t.receipts[m], adjustments=t.adjustments[m],
                                  adjusted=t.adjusted[m].quantize(CENT)) for m in METHODS],
            receipt_count=sum(t.receipts.values()), void_count=t.voids, counted_cash=row.counted_cash,
            difference=row.difference, note=row.note, handed_over_at=row.handed_over_at,
            acknowledged_at=row.acknowledged_at, acknowledged_by=row.acknowledged_by,
            acknowledged_by_name=names.get(row.acknowledged_by) if row.acknowledged_by else None,
            acknowledge_note=row.acknowledge_note, flagged_late_at=row.flagged_late_at,
            allowed_actions=SESSION_TRANSITIONS.allowed_actions(SessionStatus(row.status)),
        ))
    return out


async def detail(session: AsyncSession, row: CashierSession) -> CashierSessionDetail:
    [head] = await reads(session, [row])
    stmt = (select(Receipt, _METHOD, _SIGNED, _COUNTED).select_from(_receipts_of())
            .where(Receipt.cashier_session_id == row.id).order_by(Receipt.issued_at, Receipt.number))
    lines = [SessionReceiptLine(id=r.id, number=r.number, series=r.series, unit_id=r.unit_id, method=method,
                                amount=amount if amount is not None else ZERO, status=r.status, issued_at=r.issued_at,
                                voided_at=r.voided_at, counted=bool(counted))
             for r, method, amount, counted in (await session.execute(stmt)).all()]
    adjustments = await cash_adjustments.booked_in(session, [row.id])
    return CashierSessionDetail(**head.model_dump(), receipts=lines, adjustments=adjustments)


# --- loading and opening -----------------------------------------------------------------

async def ensure_session(session: AsyncSession, *, estate: Estate, cashier_id: uuid.UUID, day: date,
                         actor: Actor | None = None, lock: bool = False) -> CashierSession:
    """The cashier's session of the day, opened on first use; safe against a concurrent opener.

    With `lock`, the row is read FOR UPDATE (one round trip instead of a read and a re-read):
    the insert above has already waited for a concurrent opener to commit, so the row is there.
    """
    new_id = uuid.uuid4()
    inserted = (await session.execute(
        insert(CashierSession).values(
            id=new_id, created_at=utcnow(), estate_id=estate.id, cashier_id=cashier_id, day=day,
            status=SessionStatus.open.value, expected={}, note="", acknowledge_note="")
        .on_conflict_do_nothing(index_elements=["estate_id", "cashier_id", "day"]).returning(CashierSession.id)
    )).scalar()
    stmt = select(CashierSession).where(CashierSession.estate_id == estate.id, CashierSession.cashier_id == cashier_id,
                                        CashierSession.day == day)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one()
    if inserted is not None:
        await audit.record(session, actor=actor or system_actor(), action="cashier_session.open", row=row)
    return row


async def session_for_payment(session: AsyncSession, *, estate: Estate, cashier_id: uuid.UUID, actor: Actor,
                              now: datetime | None = None) -> CashierSession:
    """Today's session of the cashier for a new payment, row-locked so a hand-over cannot slip
    in between; SessionHandedOver once it is handed over."""
    row = await ensure_session(session, estate=estate, cashier_id=cashier_id, day=estate_time.today(estate, now=now), actor=actor,
                               lock=True)
    if row.is_locked:
        raise SessionHandedOver(session_id=str(row.id), current_state=row.status)
    return row


async def check_open_for_payment(session: AsyncSession, *, estate: Estate, cashier_id: uuid.UUID,
                                 now: datetime | None = None) -> None:
    """SessionHandedOver if the cashier's day is handed over already: asked before money is asked
    for at a channel, with neither a lock nor an insert, so nothing waits on the channel's answer."""
    stmt = select(CashierSession.id, CashierSession.status).where(
        CashierSession.estate_id == estate.id, CashierSession.cashier_id == cashier_id,
        CashierSession.day == estate_time.today(estate, now=now))
    found = (await session.execute(stmt)).one_or_none()
    if found is not None and SessionStatus(found.status) is not SessionStatus.open:
        raise SessionHandedOver(session_id=str(found.id), current_state=found.status)


async def adjustment_session(session: AsyncSession, *, estate: Estate, receipt_session_id: uuid.UUID | None,
                             actor: Actor, now: datetime | None = None) -> CashierSession | None:
    """Where a void's money is booked: None while the receipt's own session is open (the void
    simply stops counting there), else the voider's current session.

    The receipt's session is row-locked first: a hand-over running at the same moment either
    waits for the void (and then no longer counts the receipt) or finishes first (and the void
    becomes an adjustment). Without the lock the void could land in neither.
    """
    if receipt_session_id is None:
        return None
    own = (await session.execute(select(CashierSession).where(CashierSession.id == receipt_session_id)
                                 .with_for_update().execution_options(populate_existing=True))).scalar_one_or_none()
    if own is None or not own.is_locked:
        return None
    if actor.id is None:
        raise NoCashDrawer()
    return await session_for_payment(session, estate=estate, cashier_id=actor.id, actor=actor, now=now)


# --- the endpoints' services ---------------------------------------------------------------

class CashierSessionSort(StrEnum):
    """The keys cashier sessions sort by."""

    day = "day"
    status = "status"
    handed_over_at = "handed_over_at"
    created_at = "created_at"


async def list_sessions(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, day: date | None = None,
    cashier_id: uuid.UUID | None = None, status: SessionStatus | None = None,
) -> tuple[list[CashierSessionRead], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(CashierSession).where(CashierSession.estate_id == estate_id)
    if not sees_all(actor):
        stmt = stmt.where(CashierSession.cashier_id == actor.id)
    for column, value in ((CashierSession.day, day), (CashierSession.cashier_id, cashier_id),
                          (CashierSession.status, status.value if status else None)):
        if value is not None:
            stmt = stmt.where(column == value)
    sortable = {
        CashierSessionSort.day: CashierSession.day, CashierSessionSort.status: CashierSession.status,
        CashierSessionSort.handed_over_at: CashierSession.handed_over_at,
        CashierSessionSort.created_at: CashierSession.created_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable,
                                 default=[CashierSession.day.desc(), CashierSession.created_at, CashierSession.id])
    return await reads(session, rows), total


async def get_session(session: AsyncSession, *, actor: Actor, session_id: uuid.UUID) -> CashierSessionDetail:
    return await detail(session, await load_visible(session, CASHIER_SESSION, session_id, actor=actor))


async def current_session(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID,
                          now: datetime | None = None) -> CashierSessionDetail:
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    if actor.id is None or actor.is_api_key:  # a key or the clock holds no drawer
        raise NoCashDrawer()
    row = await ensure_session(session, estate=estate, cashier_id=actor.id, day=estate_time.today(estate, now=now), actor=actor)
    await session.flush()
    return await detail(session, row)


async def hand_over(session: AsyncSession, *, actor: Actor, session_id: uuid.UUID, data: HandOver,
                    now: datetime | None = None) -> CashierSessionDetail:
    row = await load_visible(session, CASHIER_SESSION, session_id, actor=actor, lock=True)
    if row.cashier_id != actor.id and not (actor.is_system or actor.has_role(Role.supervisor)):
        raise NotYourSession(session_id=str(row.id))
    totals = (await live_totals(session, [row.id]))[row.id]
    await audit.apply(session, actor=actor, row=row, action="hand_over",
                      expected={m.value: v.quantize(CENT) for m, v in totals.expected.items()},
                      counted_cash=data.counted_cash, note=data.note, at=now or utcnow())
    return await detail(session, row)


async def acknowledge(session: AsyncSession, *, actor: Actor, session_id: uuid.UUID, data: Acknowledge,
                      now: datetime | None = None) -> CashierSessionDetail:
    row = await load_visible(session, CASHIER_SESSION, session_id, actor=actor, lock=True)
    if row.cashier_id == actor.id:
        raise OwnHandOverAcknowledged(session_id=str(row.id))
    await audit.apply(session, actor=actor, row=row, action="acknowledge", by=actor.id, at=now or utcnow(), note=data.note)
    return await detail(session, row)


async def handover_sheet(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date | None = None,
                         now: datetime | None = None) -> CashHandoverSheet:
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    day = day or estate_time.today(estate, now=now)
    stmt = select(CashierSession).where(CashierSession.estate_id == estate.id, CashierSession.day == day)
    if not sees_all(actor):
        stmt = stmt.where(CashierSession.cashier_id == actor.id)
    rows = list((await session.execute(stmt.order_by(CashierSession.created_at, CashierSession.id))).scalars())
    sessions = await reads(session, rows)
    status = [SessionStatus(s.status) for s in sessions]
    expected = {m: sum((s.expected[m] for s in sessions), ZERO) for m in METHODS}
    adjustments = await cash_adjustments.booked_in(session, [r.id for r in rows])
    adjusted = cash_adjustments.by_method(adjustments)
    return CashHandoverSheet(
        estate_id=estate.id, day=day, sessions=sessions, expected=expected, adjustments=adjustments,
        adjustments_total=adjusted, net={m: expected[m] + adjusted[m] for m in METHODS},
        counted_cash=sum((s.counted_cash for s in sessions if s.counted_cash is not None), ZERO),
        difference=sum((s.difference for s in sessions if s.difference is not None), ZERO),
        open_count=status.count(SessionStatus.open), handed_over_count=status.count(SessionStatus.handed_over),
        acknowledged_count=status.count(SessionStatus.acknowledged),
    )


# --- the 17:00 job ---------------------------------------------------------------------------

async def _supervisors(session: AsyncSession, *, estate_id: uuid.UUID) -> list[dict[str, str]]:
    stmt = (select(User.id, User.full_name).join(UserEstate, UserEstate.user_id == User.id)
            .where(UserEstate.estate_id == estate_id, User.is_active.is_(True), any_(User.roles) == Role.supervisor.value)
            .order_by(User.full_name, User.id))
    return [{"id": str(i), "name": n} for i, n in (await session.execute(stmt)).all()]


async def flag_not_handed_over(session: AsyncSession, *, estate: Estate, day: date, now: datetime | None = None,
                               actor: Actor | None = None) -> dict[str, Any]:
    """Flag every session of `day` (or an earlier day, not flagged yet) still open with takings
    in it, each once, and record the supervisor alert naming them.

    Earlier days are included because a drawer opened after that day's 17:00 run would
    otherwise never be flagged; `flagged_late_at` keeps a re-run from flagging twice.
    """
    now, actor = now or utcnow(), actor or system_actor()
    took_money = or_(exists().where(Receipt.cashier_session_id == CashierSession.id),
                     exists().where(SessionAdjustment.cashier_session_id == CashierSession.id))
    stmt = (select(CashierSession)
            .where(CashierSession.estate_id == estate.id, CashierSession.day <= day,
                   CashierSession.status == SessionStatus.open.value, CashierSession.flagged_late_at.is_(None), took_money)
            .order_by(CashierSession.day, CashierSession.created_at, CashierSession.id).with_for_update())
    rows = list((await session.execute(stmt)).scalars())
    flagged = []
    for row, read in zip(rows, await reads(session, rows), strict=True):
        await audit.apply(session, actor=actor, row=row, action="flag_late", at=now, event_at=now)
        flagged.append({"session_id": str(row.id), "day": row.day.isoformat(), "cashier_id": str(row.cashier_id),
                        "cashier_name": read.cashier_name, "receipts": read.receipt_count,
                        "expected_cash": str(read.expected[PaymentMethod.cash])})
    alert = {"to": "supervisor", "supervisors": await _supervisors(session, estate_id=estate.id), "sessions": flagged}
    if flagged:
        # One audit entry per run records what the supervisor was told; the attention list
        # (its cash_handover rule) is where they see the sessions still to hand over.
        await audit.record(session, actor=actor, action=SUPERVISOR_ALERT, entity="estate", entity_id=estate.id,
                           estate_id=estate.id, after={"day": day.isoformat(), **alert})
    await session.flush()
    return {"day": day.isoformat(), "flagged": flagged, "count": len(flagged), "alert": alert}
