"""The idempotency store: the first answer to a request sent with an `Idempotency-Key`.

A retried payment (the desk's network dropped before the answer came back) must return the
first payment, not take the money twice. The record is inserted before the work runs, in the
same transaction: a concurrent retry waits on the unique key until the first request commits
(then replays its answer) or rolls back (then runs itself).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.domain.base import Entity


class IdempotencyRecord(Entity, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("principal_id", "key"),)

    # The user or the API key that sent the request: keys of different callers never meet.
    principal_id: uuid.UUID
    key: str = Field(max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=300)
    request_hash: str = Field(max_length=64)  # sha256 of the canonical body
    status: int | None = Field(default=None)  # null while the first request is still running
    response_body: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
