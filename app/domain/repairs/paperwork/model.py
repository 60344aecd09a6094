"""The office's repair paperwork (§5.6, §7.3.10): the daily repair log, Monday's approval
batch for the supervisor, and the month-end voucher hand-over manifests.

    approval line:  pending --approve--> approved      (the order is approved)
                    pending --return_to_desk--> returned (the order goes back to the desk)
    manifest:       built --acknowledge--> acknowledged (approved orders in it are archived)

A decided line or an acknowledged manifest refuses a second go with its own problem
(line-already-decided, manifest-already-acknowledged), as the desk has always been told.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import DateTime, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.domain.base import EstateScoped, utcnow
from app.domain.errors import Conflict
from app.domain.transitions import TransitionTable


class LineDecision(StrEnum):
    pending = "pending"
    approved = "approved"
    returned = "returned"


LINE_TRANSITIONS: TransitionTable[LineDecision] = TransitionTable("approval_line", {
    (LineDecision.pending, "approve"): LineDecision.approved,
    (LineDecision.pending, "return_to_desk"): LineDecision.returned,
})


class ManifestStatus(StrEnum):
    """Read from `acknowledged_at`: the manifest keeps no status column."""

    built = "built"
    acknowledged = "acknowledged"


MANIFEST_TRANSITIONS: TransitionTable[ManifestStatus] = TransitionTable("voucher_manifest", {
    (ManifestStatus.built, "acknowledge"): ManifestStatus.acknowledged,
})


class ManifestKind(StrEnum):
    jurisdiction = "jurisdiction"  # in-unit vouchers of one manager's buildings
    public_area = "public_area"  # filed by the records clerk


class LineAlreadyDecided(Conflict):
    title = "This line of the approval batch has been decided already"
    title_zh = "审批批次中的这一条已审批过"


class ManifestAlreadyAcknowledged(Conflict):
    title = "Receipt of this voucher manifest has been acknowledged already"
    title_zh = "该维修凭证交接单已确认签收"


class ApprovalBatch(EstateScoped, table=True):
    """Last week's called-back orders, put before the supervisor on Monday (§7.3.10)."""

    __tablename__ = "approval_batch"
    __table_args__ = (UniqueConstraint("estate_id", "week"),)

    week: str = Field(max_length=8)  # the ISO week it covers: 2026-W48
    built_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    built_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")  # null: the job clock


class ApprovalLine(EstateScoped, table=True):
    __tablename__ = "approval_line"
    __table_args__ = (
        UniqueConstraint("batch_id", "work_order_id"),
        # The attention queue's "batches waiting for the supervisor": only the undecided lines.
        Index("ix_approval_line_pending", "batch_id", postgresql_where=text("decision = 'pending'")),
    )

    batch_id: uuid.UUID = Field(foreign_key="approval_batch.id", index=True)
    work_order_id: uuid.UUID = Field(foreign_key="work_order.id", index=True)
    decision: LineDecision = Field(default=LineDecision.pending, sa_type=String(20))
    reason: str = Field(default="", max_length=500)  # why it was returned
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    transitions: ClassVar[TransitionTable[LineDecision]] = LINE_TRANSITIONS
    audit_actions: ClassVar[dict[str, str]] = {"return_to_desk": "approval_line.return"}

    @property
    def status(self) -> LineDecision:
        return LineDecision(self.decision)

    def check(self, action: str) -> None:
        """Refuse before the order is touched: a line is decided once."""
        if self.status != LineDecision.pending:
            raise LineAlreadyDecided(decision=self.status.value, line_id=str(self.id))
        LINE_TRANSITIONS.next_state(self.status, action)

    def approve(self, *, by: uuid.UUID | None, at: datetime) -> None:
        self._decide("approve", reason="", by=by, at=at)

    def return_to_desk(self, *, reason: str, by: uuid.UUID | None, at: datetime) -> None:
        self._decide("return_to_desk", reason=reason, by=by, at=at)

    def _decide(self, action: str, *, reason: str, by: uuid.UUID | None, at: datetime) -> None:
        self.check(action)
        self.decision = LINE_TRANSITIONS.next_state(self.status, action)
        self.reason, self.decided_by, self.decided_at = reason, by, at


class VoucherManifest(EstateScoped, table=True):
    """One month's vouchers for one recipient: a jurisdiction's manager, or the records clerk."""

    __tablename__ = "voucher_manifest"
    __table_args__ = (
        UniqueConstraint("estate_id", "month", "kind", "jurisdiction_id", postgresql_nulls_not_distinct=True),
    )

    month: str = Field(max_length=7)  # 2026-11
    kind: ManifestKind = Field(sa_type=String(20))
    # Null on a jurisdiction manifest: in-unit vouchers of buildings in no jurisdiction.
    jurisdiction_id: uuid.UUID | None = Field(default=None, foreign_key="jurisdiction.id", index=True)
    # The jurisdiction's manager when built; null for public_area (any records clerk of the estate).
    recipient_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", index=True)
    built_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    acknowledged_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    acknowledged_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")

    transitions: ClassVar[TransitionTable[ManifestStatus]] = MANIFEST_TRANSITIONS

    @property
    def status(self) -> ManifestStatus:
        return ManifestStatus.built if self.acknowledged_at is None else ManifestStatus.acknowledged

    def acknowledge(self, *, by: uuid.UUID | None, at: datetime) -> None:
        if self.acknowledged_at is not None:
            raise ManifestAlreadyAcknowledged(acknowledged_at=self.acknowledged_at.isoformat())
        MANIFEST_TRANSITIONS.next_state(self.status, "acknowledge")
        self.acknowledged_at, self.acknowledged_by = at, by


class ManifestLine(EstateScoped, table=True):
    __tablename__ = "manifest_line"
    # A voucher is handed over once: it sits on one manifest only.
    __table_args__ = (UniqueConstraint("voucher_id"),)

    manifest_id: uuid.UUID = Field(foreign_key="voucher_manifest.id", index=True)
    voucher_id: uuid.UUID = Field(foreign_key="voucher.id")
    work_order_id: uuid.UUID = Field(foreign_key="work_order.id", index=True)


class DailyRepairLog(EstateScoped, table=True):
    """The repair record book (報修記錄本, §5.6) of one local day, as compiled at the close."""

    __tablename__ = "daily_repair_log"
    __table_args__ = (UniqueConstraint("estate_id", "day"),)

    day: date
    compiled_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    rows: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONB, nullable=False)
