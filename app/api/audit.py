"""The audit trail, read-only: there is no route that edits or deletes it."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.domain.audit import service
from app.domain.audit.schemas import AuditEntryRead
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.types import Instant

router = APIRouter(tags=["audit"])

Slug = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:\-]*$")]
AuditPage = Annotated[PageRequest, Depends(page_of(service.AuditSort))]
AuditPage = AuditPage


@router.get("/audit", response_model=Page[AuditEntryRead], responses=problems(UnknownSortKey))
async def list_audit(
    actor: Annotated[Actor, Depends(require(Perm.audit_read))],
    session: SessionDep,
    page: AuditPage,
    entity: Slug = None,
    entity_id: Slug = None,
    estate_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    action: Slug = None,
    since: Instant | None = None,
    until: Instant | None = None,
) -> Page[AuditEntryRead]:
    """Who changed what, when, with before and after; newest first."""
    rows, total = await service.list_entries(
        session, actor=actor, page=page, entity=entity, entity_id=entity_id, estate_id=estate_id,
        actor_id=actor_id, action=action, since=since, until=until,
    )
    return Page(items=[AuditEntryRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)
