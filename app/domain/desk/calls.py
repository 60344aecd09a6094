"""The desk's phone rings (screen pop): the caller's number, posted by the telephony integration
or the desk client, becomes a `call.incoming` event carrying what the desk knows of the caller --
their owners, units, open requests and arrears -- for every desk screen of the estate.

The lookup is done once, here, not by each screen: the event is what the screens show. It is
always made as the desk sees it (with arrears); the stream leaves the arrears out for a role that
may not read fees, and only those who answer the phone get the event at all (stream.Viewer).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.desk.schemas import IncomingCallCreate, IncomingCallRead
from app.domain.events import outbox
from app.domain.events.model import EventType, OutboxEvent
from app.domain.registry.lookup import lookup_callers
from app.domain.registry.schemas import CallerLookup
from app.domain.registry.service import check_estate


async def announce(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: IncomingCallCreate,
                   now: datetime | None = None) -> IncomingCallRead:
    now = now or utcnow()
    await check_estate(session, actor=actor, estate_id=estate_id)
    lookup = await lookup_callers(session, scope=[estate_id], phone=data.phone, with_arrears=True)
    call_id = uuid.uuid4()
    event = await outbox.emit(session, estate_id=estate_id, type=EventType.call_incoming, entity="call", entity_id=call_id,
                              data={"call_id": call_id, "dialled": data.phone, "line": data.line,
                                    "lookup": lookup.model_dump(mode="json")}, at=now)
    assert event.seq is not None
    return IncomingCallRead(id=call_id, event_id=event.seq, estate_id=estate_id, dialled=data.phone, line=data.line,
                            received_at=now, lookup=_as_seen(lookup, actor))


# A desk's day has a few dozen calls; a switchboard's would still fit one screen.
MAX_CALLS_LISTED = 200


async def list_calls(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date | None,
                     now: datetime | None = None) -> list[IncomingCallRead]:
    """The estate-local day's calls, latest first, each with the lookup made when it rang."""
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    start, end = estate_time.day_bounds(day or estate_time.today(estate, now=now), estate_time.estate_zone(estate))
    stmt = (select(OutboxEvent).where(OutboxEvent.estate_id == estate_id, OutboxEvent.type == EventType.call_incoming.value,
                                      OutboxEvent.occurred_at >= start, OutboxEvent.occurred_at < end)
            .order_by(OutboxEvent.occurred_at.desc(), OutboxEvent.seq.desc()).limit(MAX_CALLS_LISTED))
    return [_read(e, actor) for e in (await session.execute(stmt)).scalars()]


def _read(event: OutboxEvent, actor: Actor) -> IncomingCallRead:
    data: dict[str, Any] = event.data
    assert event.seq is not None
    return IncomingCallRead(id=uuid.UUID(data["call_id"]), event_id=event.seq, estate_id=event.estate_id,
                            dialled=data["dialled"], line=data.get("line", ""), received_at=event.occurred_at,
                            lookup=_as_seen(CallerLookup.model_validate(data["lookup"]), actor))


def _as_seen(lookup: CallerLookup, actor: Actor) -> CallerLookup:
    if actor.can(Perm.fees_read):
        return lookup
    return lookup.model_copy(update={"owners": [o.model_copy(update={"arrears": None}) for o in lookup.owners]})
