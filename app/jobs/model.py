"""The job clock's ledger: one row per (job, estate, period), the key of exactly-once."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.domain.base import Entity, utcnow


class RunStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class RunTrigger(StrEnum):
    clock = "clock"  # the scheduler's cron fire
    catch_up = "catch_up"  # a period missed while the service was down
    manual = "manual"  # the API or the CLI


class JobRun(Entity, table=True):
    __tablename__ = "job_run"
    __table_args__ = (
        # Company-wide jobs have no estate; NULLs must still collide or they would run twice.
        UniqueConstraint("job", "estate_id", "period", postgresql_nulls_not_distinct=True),
        Index("ix_job_run_job_started_at", "job", "started_at"),
    )
    job: str = Field(max_length=60)
    estate_id: uuid.UUID | None = Field(default=None, foreign_key="estate.id", index=True)
    period: str = Field(max_length=20)  # "2026-11-28", "2026-W48", "2026-11", "2026-11-28T17"
    status: RunStatus = Field(default=RunStatus.running, sa_type=String(16))
    trigger: RunTrigger = Field(default=RunTrigger.clock, sa_type=String(16))
    attempts: int = 1
    started_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    duration_ms: int | None = None
    summary: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    error: str | None = Field(default=None, max_length=2000)
