"""Recording and reading the audit trail. Nothing here updates or deletes an entry."""
from __future__ import annotations

import contextvars
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from app.domain.audit.model import AuditEntry
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import jsonable, snapshot
from app.domain.errors import DomainError
from app.domain.events import outbox
from app.domain.pagination import PageRequest, paginate

# Set by the request-id middleware so entries can be tied to a log line.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class _FromRow:
    """`after` left out: the row as it is now."""


FROM_ROW: Any = _FromRow()


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    row: SQLModel | None = None,
    entity: str | None = None,
    entity_id: uuid.UUID | str | None = None,
    estate_id: uuid.UUID | None | _FromRow = FROM_ROW,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None | _FromRow = FROM_ROW,
) -> None:
    """The one way to write an entry by hand, where no transition table applies (creation,
    settings, deletions, a job's summary). State changes go through `apply` instead.

    Given a `row`, the entity, its id, its estate and the after-image are read from it
    (`after=None` for a deletion); without one, they are said explicitly.
    """
    if row is not None:
        entity = entity or audit_entity(row)
        entity_id = entity_id if entity_id is not None else row.id  # type: ignore[attr-defined]
        if isinstance(estate_id, _FromRow):
            # An estate's own entries are filed under it (`audit_estate_id`).
            estate_id = getattr(row, "audit_estate_id", getattr(row, "estate_id", None))
        if isinstance(after, _FromRow):
            after = snapshot(row, exclude=_excluded(row))
    assert entity is not None and entity_id is not None and not isinstance(estate_id, _FromRow)
    if isinstance(after, _FromRow):
        after = None
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
def audit_entity(row: SQLModel) -> str:
    """The trail's name for a row's kind: the aggregate's `audit_entity`, else its table's name."""
    return getattr(row, "audit_entity", None) or row.__tablename__  # type: ignore[return-value]


def _excluded(row: SQLModel) -> frozenset[str]:
    return frozenset(getattr(row, "audit_exclude", ()))


def audit_snapshot(row: SQLModel) -> dict[str, Any]:
    """The row's before/after image as the trail keeps it (secrets and unstorable columns left out)."""
    return snapshot(row, exclude=_excluded(row))


async def _flush(session: AsyncSession, unique_error: DomainError | None) -> None:
    if unique_error is None:
        await session.flush()
        return
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise unique_error from None


async def apply(session: AsyncSession, *, actor: Actor, row: SQLModel, action: str, audit_action: str | None = None,
                audit_extra: dict[str, Any] | None = None, event_at: datetime | None = None,
                unique_error: DomainError | None = None, **kwargs: Any) -> Any:
    """Call the aggregate's verb `action`, flush, record before/after, and emit its event.

    The verb asks the aggregate's transition table and raises IllegalTransition (409) itself,
    so nothing is written for a refused move. A verb that returns False and changed nothing
    ("flag once": flagged already) leaves no entry; a new row it returns (a line of the
    form, a logged attempt) is added with it. The aggregate names its entries
    (`audit_entity`, `audit_actions`: verb -> action where the trail's name is not
    `<entity>.<verb>`; `audit_action` when the outcome names it) and the events its verbs
    raise (`verb_events`, `event_data(verb)`). With `unique_error`, the flush runs in a
    savepoint and a unique index's refusal becomes that error (a unit on offer twice).
    """
    before = audit_snapshot(row)
    result = getattr(row, action)(**kwargs)
    if result is False and audit_snapshot(row) == before:
        return result
    if isinstance(result, SQLModel):
        session.add(result)
    session.add(row)
    await _flush(session, unique_error)
    entity = audit_entity(row)
    name = audit_action or getattr(row, "audit_actions", {}).get(action, f"{entity}.{action}")
    await record(session, actor=actor, action=name, row=row, entity=entity, before=before,
                 after={**audit_snapshot(row), **(audit_extra or {})})
    event = getattr(row, "verb_events", {}).get(action)
    if event is not None:
        await outbox.emit(session, estate_id=row.estate_id, type=event, entity=entity,  # type: ignore[attr-defined]
                          entity_id=row.id, data=row.event_data(action), at=event_at)  # type: ignore[attr-defined]
    return result


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
