"""Webhooks: integrations subscribe to an estate's events; deliveries are signed, retried and logged."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.status import HTTP_201_CREATED

from app.api.deps import SessionDep, SettingsDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.events import webhooks
from app.domain.events.model import DeliveryStatus
from app.domain.events.schemas import DeliveryRead, WebhookCreate, WebhookRead, WebhookUpdate, WebhookWithSecret
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound

router = APIRouter(tags=["webhooks"])

Manage = Annotated[Actor, Depends(require(Perm.webhooks_manage))]
DeliveryPage = Annotated[PageRequest, Depends(page_of(webhooks.DeliverySort))]


@router.post("/estates/{estate_id}/webhooks", response_model=WebhookWithSecret, status_code=HTTP_201_CREATED,
             responses=problems(EstateNotFound, webhooks.WebhookUrlRefused))
async def create_webhook(estate_id: uuid.UUID, body: WebhookCreate, actor: Manage, session: SessionDep,
                         settings: SettingsDep) -> WebhookWithSecret:
    """Subscribe a URL to the estate's events. The answer carries the signing secret, once.

    Each delivery is a POST of the event as JSON with `PropDesk-Signature: t=<unix>,v1=<hex>`
    (HMAC-SHA256 of `<t>.<body>` with the secret), `PropDesk-Event-Id` (de-duplicate on it:
    delivery is at-least-once) and `PropDesk-Event-Type`. A non-2xx answer is retried with
    growing delays for at least 24 hours; an endpoint failing for a day is switched off.
    Only public addresses are reached, and the private networks the operator allows.
    """
    return await webhooks.create(session, actor=actor, estate_id=estate_id, data=body,
                                 allowed_networks=settings.webhook_allowed_networks)


@router.get("/estates/{estate_id}/webhooks", response_model=list[WebhookRead], responses=problems(EstateNotFound))
async def list_webhooks(estate_id: uuid.UUID, actor: Manage, session: SessionDep) -> list[WebhookRead]:
    """The estate's subscriptions, with their state and failure streak (no secrets)."""
    return await webhooks.list_for_estate(session, actor=actor, estate_id=estate_id)


@router.get("/webhooks/{webhook_id}", response_model=WebhookRead, responses=read_responses(webhooks.WebhookNotFound))
async def get_webhook(webhook_id: uuid.UUID, actor: Manage, session: SessionDep, response: Response) -> WebhookRead:
    """One subscription: whether it is on, and why it was switched off if it is not."""
    return tagged(response, await webhooks.get(session, actor=actor, webhook_id=webhook_id))


@router.patch("/webhooks/{webhook_id}", response_model=WebhookRead,
              responses=edit_responses(webhooks.WebhookNotFound, webhooks.WebhookUrlRefused))
async def update_webhook(webhook_id: uuid.UUID, body: WebhookUpdate, actor: Manage, session: SessionDep,
                         settings: SettingsDep, expected: ExpectedVersion, response: Response) -> WebhookRead:
    """Change the URL or the events, switch it off, or back on (which clears its failure streak)."""
    return tagged(response, await webhooks.update(session, actor=actor, webhook_id=webhook_id, data=body,
                                                  allowed_networks=settings.webhook_allowed_networks, expected_version=expected))


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=WebhookWithSecret,
             responses=problems(webhooks.WebhookNotFound))
async def rotate_secret(webhook_id: uuid.UUID, actor: Manage, session: SessionDep) -> WebhookWithSecret:
    """A new signing secret; deliveries from now on are signed with it."""
    return await webhooks.rotate_secret(session, actor=actor, webhook_id=webhook_id)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryRead],
            responses=problems(webhooks.WebhookNotFound, UnknownSortKey))
async def list_deliveries(webhook_id: uuid.UUID, actor: Manage, session: SessionDep, page: DeliveryPage,
                          status: DeliveryStatus | None = None) -> Page[DeliveryRead]:
    """The delivery log: each delivery with every attempt's status code, error and duration."""
    items, total = await webhooks.deliveries(session, actor=actor, webhook_id=webhook_id, page=page, status=status)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/webhook-deliveries/{delivery_id}/redeliver", response_model=DeliveryRead,
             responses=problems(webhooks.DeliveryNotFound, webhooks.WebhookDisabled, IllegalTransition))
@idempotent(200)
async def redeliver(delivery_id: uuid.UUID, actor: Manage, session: SessionDep) -> DeliveryRead:
    """Send it again: due at once, with a fresh 24-hour retry window."""
    return await webhooks.redeliver(session, actor=actor, delivery_id=delivery_id)
