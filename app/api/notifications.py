"""Owner notifications: what owners were told about their repairs and payments, and in which words."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, tagged
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.events.model import EventType
from app.domain.notifications import service, templates
from app.domain.notifications.model import NotificationStatus
from app.domain.notifications.schemas import NotificationRead, TemplateRead, TemplateUpdate
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound

router = APIRouter(tags=["notifications"])

Read = Annotated[Actor, Depends(require(Perm.desk_read))]
Manage = Annotated[Actor, Depends(require(Perm.notifications_manage))]
NotificationPage = Annotated[PageRequest, Depends(page_of(service.NotificationSort))]


@router.get("/estates/{estate_id}/notification-templates", response_model=list[TemplateRead],
            responses=problems(EstateNotFound))
async def list_templates(estate_id: uuid.UUID, actor: Read, session: SessionDep) -> list[TemplateRead]:
    """The wording of each owner notification, the estate's own or the default, with its placeholders."""
    return await service.list_templates(session, actor=actor, estate_id=estate_id)


@router.put("/estates/{estate_id}/notification-templates/{event_type}", response_model=TemplateRead,
            responses=edit_responses(EstateNotFound, templates.UnknownPlaceholder, templates.MissingPlaceholder,
                                     templates.MalformedTemplate))
async def set_template(estate_id: uuid.UUID, event_type: EventType, body: TemplateUpdate, actor: Manage,
                       session: SessionDep, expected: ExpectedVersion, response: Response) -> TemplateRead:
    """Set the estate's wording (`{owner}` is 王先生 / 李女士); `text: null` restores the default (version 0 again)."""
    return tagged(response, await service.set_template(session, actor=actor, estate_id=estate_id, event_type=event_type,
                                                       text=body.text, expected_version=expected))


@router.get("/estates/{estate_id}/owner-notifications", response_model=Page[NotificationRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_notifications(estate_id: uuid.UUID, actor: Read, session: SessionDep, page: NotificationPage,
                             owner_id: uuid.UUID | None = None,
                             status: NotificationStatus | None = None) -> Page[NotificationRead]:
    """What was sent to owners (or is waiting to be), newest first."""
    items, total = await service.list_sent(session, actor=actor, estate_id=estate_id, page=page, owner_id=owner_id,
                                           status=status)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
