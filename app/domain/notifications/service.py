"""Which owners hear about an event, in which words; and the templates an estate sets."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot
from app.domain.calendar import estate_time
from app.domain.events.model import EventType, OutboxEvent
from app.domain.notifications import templates
from app.domain.notifications.model import NotificationStatus, NotificationTemplate, OwnerNotification
from app.domain.notifications.schemas import NotificationRead, TemplateRead
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import units
from app.domain.registry.model import DEFAULT_SCRIPT, Estate, Owner, OwnerPhone, UnitOwner
from app.domain.registry.names import addressed_as
from app.domain.registry.script import Script, in_script
from app.domain.registry.service import check_estate
from app.domain.repairs.intake.scripts import appointment_phrase


async def _owners_to_tell(session: AsyncSession, unit_id: uuid.UUID) -> list[tuple[Owner, str]]:
    """The unit's primary owners with a mobile number (a landline cannot take an SMS)."""
    stmt = (select(Owner, OwnerPhone.phone).join(UnitOwner, UnitOwner.owner_id == Owner.id)
            .join(OwnerPhone, OwnerPhone.owner_id == Owner.id)
            .where(UnitOwner.unit_id == unit_id, UnitOwner.is_primary.is_(True), OwnerPhone.phone.regexp_match(r"^1\d{10}$"))
            .order_by(Owner.full_name, Owner.id, OwnerPhone.phone))
    first: dict[uuid.UUID, tuple[Owner, str]] = {}
    for owner, phone in (await session.execute(stmt)).all():
        first.setdefault(owner.id, (owner, phone))
    return list(first.values())


async def _address(session: AsyncSession, unit_id: uuid.UUID) -> str:
    return (await units.labels_of(session, {unit_id})).get(unit_id, "")


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _local_time(at: datetime | None, zone: str) -> str | None:
    return f"{estate_time.local_time(at, zone):%m月%d日%H:%M}" if at else None


async def count_for_event(session: AsyncSession, *, event_id: uuid.UUID) -> int:
    """How many owners an event's message goes to."""
    return int((await session.execute(select(func.count()).select_from(OwnerNotification)
                                      .where(OwnerNotification.event_id == event_id))).scalar_one())


@dataclass(frozen=True)
class Audience:
    """Who is told of an event on a unit, and the words that do not depend on the event itself.

    Part of an event's outbox.read_ahead, for a caller about to take a hot lock.
    """

    owners: list[tuple[Owner, str]]
    template: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    time_zone: str = "Asia/Shanghai"
    script: Script = DEFAULT_SCRIPT


async def audience(session: AsyncSession, *, estate_id: uuid.UUID, unit_id: uuid.UUID, kind: EventType) -> Audience:
    if kind not in templates.DEFAULTS:
        return Audience(owners=[])
    owners = await _owners_to_tell(session, unit_id)
    if not owners:
        return Audience(owners=[])
    estate = await session.get(Estate, estate_id)
    custom = (await session.execute(select(NotificationTemplate.text).where(
        NotificationTemplate.estate_id == estate_id, NotificationTemplate.event_type == kind.value))).scalar()
    return Audience(owners=owners, template=custom or templates.DEFAULTS[kind],
                    values={"office": estate.office_name if estate else "", "address": await _address(session, unit_id)},
                    time_zone=estate.time_zone if estate else "Asia/Shanghai",
                    script=estate.script if estate else DEFAULT_SCRIPT)


async def on_event(session: AsyncSession, event: OutboxEvent, *, told: Audience | None = None,
                   private: Mapping[str, str] | None = None) -> int:
    """Write the notifications an event calls for; returns how many. `told`: its `audience`,
    when the caller read it earlier in the transaction. `private`: words only the owner reads
    (the owner's code); the log shows them hidden."""
    try:
        kind = EventType(event.type)
    except ValueError:
        return 0
    unit = event.data.get("unit_id")
    if kind not in templates.DEFAULTS or not unit:
        return 0
    unit_id = uuid.UUID(unit)
    if told is None:
        told = await audience(session, estate_id=event.estate_id, unit_id=unit_id, kind=kind)
    if not told.owners:
        return 0
    amount = event.data.get("amount")
    values = {**told.values, "receipt_number": event.data.get("receipt_number"), "order_number": event.data.get("number"),
              "amount": f"{Decimal(amount):.2f}" if amount else None,
              "appointment": appointment_phrase(_when(event.data.get("start")), _when(event.data.get("end")),
                                                tz=estate_time.zone(told.time_zone)),
              "valid_until": _local_time(_when(event.data.get("expires_at")), told.time_zone)}
    template = told.template or templates.DEFAULTS[kind]
    for owner, phone in told.owners:
        words = {**values, "owner": addressed_as(full_name=owner.full_name, surname=owner.surname, title=owner.title)}
        hidden = {k: templates.HIDDEN for k in private} if private else None
        session.add(OwnerNotification(
            estate_id=event.estate_id, event_id=event.id, event_type=kind.value, owner_id=owner.id, unit_id=unit_id,
            phone=phone, text=templates.render(kind, template, {**words, **(private or {})}, script=told.script),
            text_shown=templates.render(kind, template, {**words, **hidden}, script=told.script) if hidden else None,
            next_attempt_at=event.occurred_at))
    await session.flush()
    return len(told.owners)


# --- the estate's templates and the log -------------------------------------------------------

async def list_templates(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> list[TemplateRead]:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    custom = {r.event_type: r for r in (await session.execute(
        select(NotificationTemplate).where(NotificationTemplate.estate_id == estate_id))).scalars()}
    # The default wording is shown in the estate's characters; an estate's own, as it was saved.
    return [TemplateRead(event_type=k, text=custom[k.value].text if k.value in custom else in_script(text, estate.script),
                         is_default=k.value not in custom, placeholders=sorted(templates.PLACEHOLDERS[k]),
                         version=versions.version_of(custom.get(k.value))) for k, text in templates.DEFAULTS.items()]


async def set_template(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, event_type: EventType,
                       text: str | None, expected_version: int | None = None) -> TemplateRead:
    """Save an estate's wording, or (text None) go back to the default."""
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    if event_type not in templates.DEFAULTS:
        raise templates.UnknownPlaceholder(f"{event_type.value} sends no owner notification", field="event_type")
    if text is not None:
        templates.check(event_type, text)
    row = await versions.load_for_edit(session, select(NotificationTemplate).where(
        NotificationTemplate.estate_id == estate_id, NotificationTemplate.event_type == event_type.value),
        record=versions.key("notification_template", estate_id, event_type.value), expected_version=expected_version)
    before = snapshot(row) if row else None
    if text is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        row = NotificationTemplate(estate_id=estate_id, event_type=event_type.value, text=text)
        session.add(row)
    else:
        row.text = text
    await session.flush()
    await audit.record(session, actor=actor, action="notification_template.set", entity="notification_template",
                       entity_id=f"{estate_id}:{event_type.value}", estate_id=estate_id, before=before,
                       after=None if text is None or row is None else snapshot(row))
    return TemplateRead(event_type=event_type, text=text or in_script(templates.DEFAULTS[event_type], estate.script),
                        is_default=text is None, placeholders=sorted(templates.PLACEHOLDERS[event_type]),
                        version=versions.version_of(None if text is None else row))


class NotificationSort(StrEnum):
    """The keys sent notifications sort by."""

    created_at = "created_at"


async def list_sent(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
                    owner_id: uuid.UUID | None = None, status: NotificationStatus | None = None,
                    ) -> tuple[list[NotificationRead], int]:
    await check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(OwnerNotification).where(OwnerNotification.estate_id == estate_id)
    if owner_id is not None:
        stmt = stmt.where(OwnerNotification.owner_id == owner_id)
    if status is not None:
        stmt = stmt.where(OwnerNotification.status == status.value)
    rows, total = await paginate(session, stmt, page, sortable={
        NotificationSort.created_at: OwnerNotification.created_at,
    },
                                 default=[OwnerNotification.created_at.desc(), OwnerNotification.id])
    columns = [c.key for c in OwnerNotification.__table__.columns if c.key != "text_shown"]
    # Staff read the log; a message with a secret in it (the owner's code) shows it hidden.
    return [NotificationRead.model_validate({**{k: getattr(r, k) for k in columns},
                                             "text": r.text if r.text_shown is None else r.text_shown}) for r in rows], total
