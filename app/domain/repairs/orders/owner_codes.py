"""The owner's one-time code: issued by the desk and sent to the owner by SMS, read out by the
owner to the technician when the work is done, checked once.

Why it is random and hashed with argon2: the code used to be HMAC(secret, order id), so anyone
knowing the secret (it has a public default) could compute it. Now it is 6 random digits
(`secrets`), and the server keeps only argon2id(HMAC(secret, order id ‖ code)). A million codes
are few, so a fast hash (even salted) would give the code back from a database dump in a
second; argon2id makes each guess cost tens of milliseconds and megabytes, and the HMAC binds
the hash to its order and adds the secret as a pepper when it is a real secret (nothing here
relies on that). Online guessing is stopped by the attempt limit per order, counted in the
row (locked FOR UPDATE) and kept although the voucher is refused.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import any_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.errors import Conflict, NotFound
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.notifications import service as notifications
from app.domain.repairs.model import OPEN_ORDER_STATES, WorkOrder, WorkOrderStatus
from app.domain.repairs.orders.owner_code_model import FIELD, NoOwnerCode, OwnerCode, OwnerCodeStatus, WrongOwnerCode
from app.domain.repairs.orders.reading import load_order
from app.domain.repairs.vouchers.schemas import OwnerCodeIssued, OwnerCodeRead

_hasher = PasswordHasher()  # argon2id with the library's defaults (RFC 9106's low-memory profile)


@dataclass(frozen=True)
class CodePolicy:
    key: str  # the pepper: settings.signing_secret
    valid_for: timedelta
    max_attempts: int


class OwnerCodeNotIssued(NotFound):
    title = "No owner's code has been issued for this order"
    title_zh = "该工单尚未发放业主确认码"


class OrderNotOpen(Conflict):
    title = "The order is not waiting for its work to be done: a code would have nothing to confirm"
    title_zh = "该工单不在待维修状态，业主确认码没有可确认的内容"


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _material(order_id: uuid.UUID, code: str, key: str) -> str:
    return hmac.new(key.encode(), order_id.bytes + code.encode(), hashlib.sha256).hexdigest()


def hash_code(order_id: uuid.UUID, code: str, key: str) -> str:
    return _hasher.hash(_material(order_id, code, key))


def code_matches(code_hash: str, order_id: uuid.UUID, code: str, key: str) -> bool:
    try:
        return _hasher.verify(code_hash, _material(order_id, code, key))
    except (VerificationError, InvalidHashError):
        return False


def may_unlock(actor: Actor) -> bool:
    return actor.is_system or actor.has_role(Role.supervisor) or actor.has_role(Role.admin)


async def _row(session: AsyncSession, order_id: uuid.UUID) -> OwnerCode | None:
    # Locked, and read fresh: concurrent attempts on one order are counted one after the other.
    stmt = (select(OwnerCode).where(OwnerCode.work_order_id == order_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.execute(stmt)).scalar_one_or_none()


def _shown(row: OwnerCode) -> dict[str, Any]:
    return audit.audit_snapshot(row)


def _read(row: OwnerCode, policy: CodePolicy, *, now: datetime) -> OwnerCodeRead:
    return OwnerCodeRead(work_order_id=row.work_order_id, status=row.shown_status(now=now), issued_at=row.issued_at,
                         expires_at=row.expires_at, failed_attempts=row.failed_attempts,
                         attempts_left=row.attempts_left(policy.max_attempts), locked_at=row.locked_at,
                         consumed_at=row.consumed_at)


def _check_open(order: WorkOrder) -> None:
    if WorkOrderStatus(order.status) not in OPEN_ORDER_STATES:
        raise OrderNotOpen(current_state=order.status)


async def issue(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, policy: CodePolicy) -> OwnerCodeIssued:
    """A new code for the order, replacing any earlier one; the owner gets it by SMS, the desk sees it once."""
    _check_open(await load_order(session, actor=actor, order_id=order_id))
    # Hashed once the order is known, before it is locked: argon2 takes a while, a technician's post may wait.
    code = new_code()
    code_hash = await asyncio.to_thread(hash_code, order_id, code, policy.key)
    order = await load_order(session, actor=actor, order_id=order_id, lock=True)
    _check_open(order)
    row = await _row(session, order.id)
    now = utcnow()
    before = _shown(row) if row is not None else None
    unlocking = row is not None and row.status == OwnerCodeStatus.locked
    if row is None:
        row = OwnerCode(estate_id=order.estate_id, work_order_id=order.id, code_hash=code_hash, issued_at=now,
                        expires_at=now + policy.valid_for, issued_by=actor.id)
        session.add(row)
        await session.flush()
        await audit.record(session, actor=actor, action="owner_code.issue", row=row, before=before)
    else:
        await audit.apply(session, actor=actor, row=row, action="issue",
                          audit_action="owner_code.unlock" if unlocking else "owner_code.issue",
                          code_hash=code_hash, now=now, expires_at=now + policy.valid_for, by=actor.id,
                          unlock=may_unlock(actor))
    event = await outbox.emit(session, estate_id=order.estate_id, type=EventType.owner_code_issued, entity="work_order",
                              entity_id=order.id, at=now, private={"code": code},
                              data={"work_order_id": order.id, "number": order.number, "unit_id": order.unit_id,
                                    "expires_at": row.expires_at})
    told = await notifications.count_for_event(session, event_id=event.id)
    return OwnerCodeIssued(**_read(row, policy, now=now).model_dump(), code=code, owners_texted=told)


async def get_status(session: AsyncSession, *, actor: Actor, order_id: uuid.UUID, policy: CodePolicy) -> OwnerCodeRead:
    """Where the order's code stands; never the code."""
    order = await load_order(session, actor=actor, order_id=order_id)
    row = (await session.execute(select(OwnerCode).where(OwnerCode.work_order_id == order.id))).scalar_one_or_none()
    if row is None:
        raise OwnerCodeNotIssued()
    return _read(row, policy, now=utcnow())


async def use(session: AsyncSession, *, actor: Actor, order: WorkOrder, code: str, policy: CodePolicy) -> None:
    """Consume the order's code if `code` is it; otherwise count the wrong attempt (kept) and refuse."""
    row = await _row(session, order.id)
    if row is None:
        raise NoOwnerCode(field=FIELD)
    now = utcnow()
    row.check_usable(now=now)
    matched = await asyncio.to_thread(code_matches, row.code_hash, order.id, code, policy.key)
    if matched:
        await audit.apply(session, actor=actor, row=row, action="consume", now=now)
        return
    locked = await audit.apply(session, actor=actor, row=row, action="attempt_failed", now=now,
                               max_attempts=policy.max_attempts)
    if locked:
        await _alert_supervisors(session, actor=actor, row=row, order=order, now=now)
    await session.flush()
    raise WrongOwnerCode(field=FIELD, attempts_left=row.attempts_left(policy.max_attempts), locked=locked)


async def _supervisors(session: AsyncSession, *, estate_id: uuid.UUID) -> list[dict[str, str]]:
    stmt = (select(User.id, User.full_name).join(UserEstate, UserEstate.user_id == User.id)
            .where(UserEstate.estate_id == estate_id, User.is_active.is_(True), any_(User.roles) == Role.supervisor.value)
            .order_by(User.full_name, User.id))
    return [{"id": str(i), "name": n} for i, n in (await session.execute(stmt)).all()]


async def _alert_supervisors(session: AsyncSession, *, actor: Actor, row: OwnerCode, order: WorkOrder, now: datetime) -> None:
    """The lock is the supervisor's business: an audited alert naming them, an event, and the attention queue."""
    alert = {"to": "supervisor", "staff": await _supervisors(session, estate_id=row.estate_id),
             "work_order_id": str(order.id), "technician_id": str(order.technician_id) if order.technician_id else None,
             "failed_attempts": row.failed_attempts}
    await audit.record(session, actor=actor, action="owner_code.lock", row=row, after={**_shown(row), "alert": alert})
    await outbox.emit(session, estate_id=row.estate_id, type=EventType.owner_code_locked, entity="work_order",
                      entity_id=order.id, at=now,
                      data={"work_order_id": order.id, "technician_id": order.technician_id,
                            "failed_attempts": row.failed_attempts, "locked_at": row.locked_at})
