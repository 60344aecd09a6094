"""Recording and reading the audit trail. Nothing here updates or deletes an entry."""
from __future__ import annotations

import contextvars
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit.model import AuditEntry
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import jsonable
from app.domain.pagination import PageRequest, paginate

# Set by the request-id middleware so entries can be tied to a log line.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: uuid.UUID | str,
    estate_id: uuid.UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            estate_id=estate_id,
            actor_id=actor.id,
            actor_label=actor.label[:100],
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=jsonable(before) if before is not None else None,
            after=jsonable(after) if after is not None else None,
            request_id=request_id_var.get(),
        )
    )


class AuditSort(StrEnum):
    """The keys the audit trail sort by."""

    at = "at"
    entity = "entity"
    action = "action"


async def list_entries(
    session: AsyncSession,
    *,
    actor: Actor,
    page: PageRequest,
    entity: str | None = None,
    entity_id: str | None = None,
    estate_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEntry], int]:
    visible: ColumnElement[bool] = AuditEntry.estate_id.in_(actor.estate_ids)
    if actor.has_role(Role.admin):
        # Company-wide entries (users, API keys) carry no estate; admins see them.
        visible = visible | AuditEntry.estate_id.is_(None)
    stmt = select(AuditEntry).where(visible)
    filters = [
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.estate_id, estate_id),
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.action, action),
    ]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    sortable = {AuditSort.at: AuditEntry.at, AuditSort.entity: AuditEntry.entity, AuditSort.action: AuditEntry.action}
    return await paginate(session, stmt, page, sortable=sortable, default=[AuditEntry.id.desc()])
