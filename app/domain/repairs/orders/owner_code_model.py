"""The owner's one-time confirmation code of a work order: issued by the desk, read out to the technician.

One row per order. The code itself is never stored: only its argon2 hash (owner_codes.py says
why). The row counts wrong attempts for the ORDER, whoever posts them, and locks at the limit.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

from sqlalchemy import CheckConstraint, DateTime, String
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.errors import Conflict, Invalid
from app.domain.transitions import TransitionTable

FIELD = "owner_confirmation.code"


class OwnerCodeStatus(StrEnum):
    active = "active"  # issued, not used yet (it may have expired: see expires_at)
    consumed = "consumed"  # a voucher was confirmed with it
    locked = "locked"  # too many wrong attempts: only a supervisor's new code opens it again


C = OwnerCodeStatus
# What the desk is shown: the stored status, or "expired" for an active code past its time.
ShownStatus = Literal["active", "expired", "consumed", "locked"]
SHOWN: dict[OwnerCodeStatus, ShownStatus] = {C.active: "active", C.consumed: "consumed", C.locked: "locked"}
OWNER_CODE_TRANSITIONS: TransitionTable[OwnerCodeStatus] = TransitionTable("owner_code", {
    (C.active, "issue"): C.active,  # re-issued (the owner lost the SMS): the old code stops working
    (C.consumed, "issue"): C.active,  # a reopened order's next round
    (C.locked, "unlock"): C.active,  # a supervisor issues a new code
    (C.active, "attempt"): C.active,
    (C.active, "consume"): C.consumed,
    (C.active, "lock"): C.locked,
})


class WrongOwnerCode(Invalid):
    title = "The owner's confirmation code is not the one given for this order"
    title_zh = "业主确认码与该工单发放的不一致"
    # The wrong attempt is counted although the voucher is refused.
    keeps_changes = True


class OwnerCodeLocked(Conflict):
    title = "Too many wrong codes for this order: it is locked until a supervisor issues a new code"
    title_zh = "该工单业主确认码输错次数过多，已锁定，须由主管重新发放确认码"


class OwnerCodeExpired(Invalid):
    title = "The owner's code has expired; the desk issues a new one"
    title_zh = "业主确认码已过期；请前台重新发放"


class OwnerCodeAlreadyUsed(Invalid):
    title = "The owner's code was used already; the desk issues a new one"
    title_zh = "业主确认码已使用过；请前台重新发放"


class NoOwnerCode(Invalid):
    title = "No owner's code has been issued for this order; the desk issues one"
    title_zh = "该工单尚未发放业主确认码；请前台发放"


class OwnerCode(EstateScoped, table=True):
    __tablename__ = "owner_code"
    __table_args__ = (CheckConstraint("failed_attempts >= 0", name="failed_attempts_not_negative"),)

    work_order_id: uuid.UUID = Field(foreign_key="work_order.id", unique=True)
    code_hash: str = Field(max_length=200)
    status: OwnerCodeStatus = Field(default=OwnerCodeStatus.active, sa_type=String(20))
    issued_at: datetime = Field(sa_type=DateTime(timezone=True))
    issued_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    # Wrong codes since the last use or the last unlock: re-issuing does not buy more guesses.
    failed_attempts: int = 0
    locked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    consumed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    transitions: ClassVar[TransitionTable[OwnerCodeStatus]] = OWNER_CODE_TRANSITIONS
    audit_exclude: ClassVar[frozenset[str]] = frozenset({"code_hash"})
    audit_actions: ClassVar[dict[str, str]] = {"attempt_failed": "owner_code.wrong"}

    def _move(self, action: str) -> None:
        self.status = OWNER_CODE_TRANSITIONS.next_state(OwnerCodeStatus(self.status), action)

    def issue(self, *, code_hash: str, now: datetime, expires_at: datetime, by: uuid.UUID | None, unlock: bool) -> None:
        """A new code replaces the old one. A locked order opens again only with `unlock` (a supervisor)."""
        status = OwnerCodeStatus(self.status)
        if status == C.locked and not unlock:
            raise OwnerCodeLocked(locked_at=self.locked_at.isoformat() if self.locked_at else None)
        self._move("unlock" if status == C.locked else "issue")
        if status != C.active:
            self.failed_attempts = 0
        self.code_hash, self.issued_at, self.expires_at, self.issued_by = code_hash, now, expires_at, by
        self.locked_at = self.consumed_at = None

    def check_usable(self, *, now: datetime) -> None:
        """Before the code is even compared: a locked code refuses the right code too."""
        status = OwnerCodeStatus(self.status)
        if status == C.locked:
            raise OwnerCodeLocked(field=FIELD)
        if status == C.consumed:
            raise OwnerCodeAlreadyUsed(field=FIELD)
        if now >= self.expires_at:
            raise OwnerCodeExpired(field=FIELD, expired_at=self.expires_at.isoformat())

    def attempt_failed(self, *, now: datetime, max_attempts: int) -> bool:
        """Count a wrong code; True when this one locked the order."""
        self._move("attempt")
        self.failed_attempts += 1
        if self.failed_attempts >= max_attempts:
            self._move("lock")
            self.locked_at = now
            return True
        return False

    def consume(self, *, now: datetime) -> None:
        self._move("consume")
        self.consumed_at = now

    def attempts_left(self, max_attempts: int) -> int:
        return 0 if self.status == C.locked else max(max_attempts - self.failed_attempts, 0)

    def shown_status(self, *, now: datetime) -> ShownStatus:
        if self.status == C.active and now >= self.expires_at:
            return "expired"
        return SHOWN[OwnerCodeStatus(self.status)]
