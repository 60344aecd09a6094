"""What clients see of the job clock: jobs, their next runs, their runs; and what they send."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.types import InputModel

JobName = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]
PeriodText = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z\-]+$",
                                  examples=["2026-11-28", "2026-W48", "2026-11", "2026-11-28T17"])]


class JobRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    job: str
    estate_id: uuid.UUID | None = Field(description="None for a company-wide job")
    period: str
    status: str = Field(description="running, succeeded or failed")
    trigger: str = Field(description="clock, catch_up or manual")
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    summary: dict[str, Any] | None
    error: str | None


class NextRun(BaseModel):
    estate_id: uuid.UUID | None
    time_zone: str
    at: datetime | None
    period: str | None = Field(description="The period that run will be for")


class JobRead(BaseModel):
    name: str
    description: str
    cron: str = Field(description="crontab line, read in each estate's time zone")
    per_estate: bool
    period_kind: str = Field(description="five_minutes, hour, day, week or month")
    next_runs: list[NextRun]
    recent_runs: list[JobRunRead] = Field(description="The latest runs the caller may see, newest first")


class JobRunRequest(InputModel):
    estate_id: uuid.UUID | None = Field(default=None, description="One estate; default: every estate of the caller")
    period: PeriodText | None = Field(default=None, description="Default: the current period in the estate's time zone")
    force: bool = Field(default=False, description="Run again although the period already succeeded")


class JobRunOutcome(BaseModel):
    """One (job, estate, period) attempt: succeeded, failed, or skipped with the reason."""

    model_config = ConfigDict(from_attributes=True)
    job: str
    estate_id: uuid.UUID | None
    period: str
    status: str
    run_id: uuid.UUID | None
    reason: str | None
    duration_ms: int | None
    summary: dict[str, Any] | None
    error: str | None
