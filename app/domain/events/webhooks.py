"""Subscribing integrations to events, and looking after their deliveries."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.events import egress, signing
from app.domain.events.model import DeliveryStatus, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.domain.events.schemas import DeliveryAttemptRead, DeliveryRead, WebhookCreate, WebhookRead, WebhookUpdate, WebhookWithSecret
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.service import check_estate
from app.domain.visibility import Visible, load_visible


class WebhookNotFound(NotFound):
    title = "Webhook endpoint not found"
    title_zh = "未找到该 Webhook 接收地址"


WEBHOOK = Visible(model=WebhookEndpoint, missing=WebhookNotFound, id_field="webhook_id")


class DeliveryNotFound(NotFound):
    title = "Webhook delivery not found"
    title_zh = "未找到该 Webhook 推送记录"


DELIVERY = Visible(model=WebhookDelivery, missing=DeliveryNotFound, id_field="delivery_id")


class WebhookDisabled(Conflict):
    title = "The endpoint is switched off; re-enable it before redelivering"
    title_zh = "该接收地址已关闭；重新推送前请先启用"


def to_read(row: WebhookEndpoint) -> WebhookRead:
    return WebhookRead.model_validate(row, from_attributes=True)


def with_secret(row: WebhookEndpoint) -> WebhookWithSecret:
    return WebhookWithSecret.model_validate(row, from_attributes=True)




class WebhookUrlRefused(Invalid):
    title = "Webhooks may not be sent to this address"
    title_zh = "不允许向此地址推送 Webhook"


def _check_destination(url: str, allowed_networks: str) -> None:
    # The dispatcher checks every address again when it sends; this answers a plain mistake at once.
    host = urlsplit(url).hostname or ""
    why = egress.literal_refusal(host, egress.parse_networks(allowed_networks))
    if why is not None:
        raise WebhookUrlRefused(f"{host} {why}: webhooks go to public addresses, or networks the operator "
                                "allows (PROPDESK_WEBHOOK_ALLOWED_NETWORKS)", field="url")


async def create(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: WebhookCreate,
                 allowed_networks: str = "") -> WebhookWithSecret:
    await check_estate(session, actor=actor, estate_id=estate_id)
    _check_destination(str(data.url), allowed_networks)
    row = WebhookEndpoint(estate_id=estate_id, url=str(data.url), description=data.description,
                          event_types=sorted({t.value for t in data.event_types}), secret=signing.new_secret())
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="webhook.create", row=row)
    return with_secret(row)


async def list_for_estate(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> list[WebhookRead]:
    await check_estate(session, actor=actor, estate_id=estate_id)
    rows = (await session.execute(select(WebhookEndpoint).where(WebhookEndpoint.estate_id == estate_id)
                                  .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id))).scalars()
    return [to_read(r) for r in rows]


async def get(session: AsyncSession, *, actor: Actor, webhook_id: uuid.UUID) -> WebhookRead:
    return to_read(await load_visible(session, WEBHOOK, webhook_id, actor=actor))


async def update(session: AsyncSession, *, actor: Actor, webhook_id: uuid.UUID, data: WebhookUpdate,
                 allowed_networks: str = "", expected_version: int | None = None) -> WebhookRead:
    row = await load_visible(session, WEBHOOK, webhook_id, actor=actor, expected_version=expected_version)
    before = audit.audit_snapshot(row)
    if data.url is not None:
        _check_destination(str(data.url), allowed_networks)
        row.url = str(data.url)
    if data.description is not None:
        row.description = data.description
    if data.event_types is not None:
        row.event_types = sorted({t.value for t in data.event_types})
    if data.active is True and not row.active:
        # A fresh start: the streak that switched it off is history (kept in the audit).
        row.active, row.disabled_at, row.disabled_reason = True, None, ""
        row.failure_streak, row.failing_since = 0, None
    elif data.active is False:
        row.active, row.disabled_at, row.disabled_reason = False, utcnow(), "switched off by a user"
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="webhook.update", row=row, before=before)
    return to_read(row)


async def rotate_secret(session: AsyncSession, *, actor: Actor, webhook_id: uuid.UUID) -> WebhookWithSecret:
    row = await load_visible(session, WEBHOOK, webhook_id, actor=actor)
    before = audit.audit_snapshot(row)
    row.secret = signing.new_secret()
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="webhook.rotate_secret", row=row, before=before)
    return with_secret(row)


async def _delivery_reads(session: AsyncSession, rows: Sequence[tuple[WebhookDelivery, str]]) -> list[DeliveryRead]:
    ids = [d.id for d, _ in rows]
    logs: dict[uuid.UUID, list[DeliveryAttemptRead]] = {i: [] for i in ids}
    if ids:
        attempts = await session.execute(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids))
                                         .order_by(WebhookAttempt.at, WebhookAttempt.id))
        for a in attempts.scalars():
            logs[a.delivery_id].append(DeliveryAttemptRead.model_validate(a, from_attributes=True))
    columns = [c.key for c in WebhookDelivery.__table__.columns]
    return [DeliveryRead.model_validate({**{k: getattr(d, k) for k in columns}, "event_type": event_type, "log": logs[d.id]})
            for d, event_type in rows]


class DeliverySort(StrEnum):
    """The keys webhook deliveries sort by."""

    created_at = "created_at"


async def deliveries(session: AsyncSession, *, actor: Actor, webhook_id: uuid.UUID, page: PageRequest,
                     status: DeliveryStatus | None = None) -> tuple[list[DeliveryRead], int]:
    await load_visible(session, WEBHOOK, webhook_id, actor=actor)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == webhook_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status.value)
    rows, total = await paginate(session, stmt, page, sortable={DeliverySort.created_at: WebhookDelivery.created_at},
                                 default=[WebhookDelivery.created_at.desc(), WebhookDelivery.id])
    types = dict((await session.execute(select(OutboxEvent.id, OutboxEvent.type)
                                        .where(OutboxEvent.id.in_([d.event_id for d in rows])))).all())
    return await _delivery_reads(session, [(d, types[d.event_id]) for d in rows]), total


async def redeliver(session: AsyncSession, *, actor: Actor, delivery_id: uuid.UUID) -> DeliveryRead:
    delivery = await load_visible(session, DELIVERY, delivery_id, actor=actor, lock=True)
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.active:
        raise WebhookDisabled(webhook_id=str(delivery.endpoint_id))
    await audit.apply(session, actor=actor, row=delivery, action="redeliver", at=utcnow())
    event_type = (await session.execute(select(OutboxEvent.type).where(OutboxEvent.id == delivery.event_id))).scalar_one()
    return (await _delivery_reads(session, [(delivery, event_type)]))[0]
