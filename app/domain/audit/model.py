"""The audit trail: append-only, enforced by a trigger in PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, BigInteger, DateTime, Identity, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Column, Field, SQLModel

from app.domain.base import utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), index=True)
    estate_id: uuid.UUID | None = Field(default=None, index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    actor_label: str = Field(max_length=100)
    action: str = Field(max_length=60)
    entity: str = Field(max_length=60)
    entity_id: str = Field(max_length=64, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    request_id: str | None = Field(default=None, max_length=64)


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entry
FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()
"""

event.listen(AuditEntry.__table__, "after_create", DDL(APPEND_ONLY_FUNCTION))
event.listen(AuditEntry.__table__, "after_create", DDL(APPEND_ONLY_TRIGGER))
