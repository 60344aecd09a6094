"""Server-sent events: new requests, confirmations and payments as they happen, for the desk's screens."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.api.deps import BearerDep, SessionDep, SettingsDep, current_actor, require
from app.api.errors import problems
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.auth.service import InvalidToken
from app.domain.errors import Forbidden
from app.domain.events import stream, tickets
from app.domain.events.model import EventType
from app.domain.registry.errors import EstateNotFound
from app.domain.types import EXACT_INT

router = APIRouter(tags=["events"])

Follow = Annotated[Actor, Depends(require(Perm.events_stream))]
# The stream is opened with a bearer token, or by a browser's EventSource (which cannot send one) with a ticket.
TICKET_SECONDS = 60.0


async def stream_actor(
    request: Request, session: SessionDep, credentials: BearerDep,
    ticket: Annotated[str | None, Query(max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="A ticket from POST /stream/tickets, "
                                        "for a client that cannot send Authorization (EventSource); good once")] = None,
) -> Actor:
    if ticket is not None:
        actor = await tickets.redeem(session, ticket=ticket, client=request.client.host if request.client else None)
    else:
        actor = await current_actor(session, credentials)
    actor.require(Perm.events_stream)
    return actor


@router.post("/stream/tickets", status_code=201, response_model=tickets.StreamTicketRead,
             responses=problems(InvalidToken, Forbidden))
async def issue_stream_ticket(
    actor: Follow, session: SessionDep, credentials: BearerDep,
) -> tickets.StreamTicketRead:
    """A ticket that opens the event stream once, within a minute, as the caller: for a browser's
    EventSource, which cannot send the Authorization header (`new EventSource(stream_url)`). When
    the stream ends or drops, take a new ticket and pass `last_event_id` to miss nothing."""
    assert credentials is not None  # Follow authenticated it
    return await tickets.issue(session, actor=actor, credential=credentials.credentials, seconds=TICKET_SECONDS)


@router.get("/stream", response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "`id:` the event's sequence number, `event:` its type, `data:` the event as JSON"},
    **problems(EstateNotFound, stream.TooManyStreams, tickets.TicketNotValid, Forbidden)})
async def follow_events(
    request: Request, actor: Annotated[Actor, Depends(stream_actor)], session: SessionDep, settings: SettingsDep,
    estate_id: Annotated[uuid.UUID | None, Query(description="One estate; default all of the user's")] = None,
    types: Annotated[list[EventType] | None, Query(description="Only these event types")] = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62, description="Resume after this event")] = None,
    resume_after: Annotated[int | None, Query(alias="last_event_id", ge=0, le=2**62, description=(
        "Resume after this event, for a new EventSource (which sends Last-Event-ID only when it reconnects by itself)"
    )), EXACT_INT] = None,
) -> StreamingResponse:
    """Follow the estate's events live (text/event-stream). The stream closes after a few minutes;
    reconnect with `Last-Event-ID` (EventSource does) to miss nothing. A user (or API key) holds
    a few streams at once (`PROPDESK_STREAM_MAX_PER_USER`); one more is 429 with Retry-After."""
    resume = last_event_id if last_event_id is not None else resume_after
    estates, after = await stream.scope(session, actor=actor, estate_id=estate_id, last_event_id=resume)
    slot = request.app.state.stream_slots.take(
        stream.holder_of(actor), per_holder=settings.stream_max_per_user, per_process=settings.stream_max_per_process,
        max_seconds=settings.stream_max_seconds)
    frames = stream.follow(request.app.state.sessionmaker, estates=estates, after=after, types=types or [],
                           max_seconds=settings.stream_max_seconds, poll_seconds=settings.stream_poll_seconds,
                           disconnected=request.is_disconnected, slot=slot, viewer=stream.Viewer.of(actor))
    return SlotResponse(frames, slot=slot, media_type="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class SlotResponse(StreamingResponse):
    """A stream that gives its slot back when the response is over: ended, failed, or the client gone
    (a generator never started, or left at a yield, would not run its own `finally`)."""

    def __init__(self, content: AsyncIterator[str], *, slot: stream.StreamSlot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()
