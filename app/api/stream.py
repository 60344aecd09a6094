"""Server-sent events: new requests, confirmations and payments as they happen, for the desk's screens."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.api.deps import SessionDep, SettingsDep, require
from app.api.errors import problems
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.events import stream
from app.domain.events.model import EventType
from app.domain.registry.errors import EstateNotFound

router = APIRouter(tags=["events"])

Follow = Annotated[Actor, Depends(require(Perm.events_stream))]


@router.get("/stream", response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": "`id:` the event's sequence number, `event:` its type, `data:` the event as JSON"},
    **problems(EstateNotFound, stream.TooManyStreams)})
async def follow_events(
    request: Request, actor: Follow, session: SessionDep, settings: SettingsDep,
    estate_id: Annotated[uuid.UUID | None, Query(description="One estate; default all of the user's")] = None,
    types: Annotated[list[EventType] | None, Query(description="Only these event types")] = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62, description="Resume after this event")] = None,
) -> StreamingResponse:
    """Follow the estate's events live (text/event-stream). The stream closes after a few minutes;
    reconnect with `Last-Event-ID` (EventSource does) to miss nothing. A user (or API key) holds
    a few streams at once (`PROPDESK_STREAM_MAX_PER_USER`); one more is 429 with Retry-After."""
    estates, after = await stream.scope(session, actor=actor, estate_id=estate_id, last_event_id=last_event_id)
    slot = request.app.state.stream_slots.take(
        stream.holder_of(actor), per_holder=settings.stream_max_per_user, per_process=settings.stream_max_per_process,
        max_seconds=settings.stream_max_seconds)
    frames = stream.follow(request.app.state.sessionmaker, estates=estates, after=after, types=types or [],
                           max_seconds=settings.stream_max_seconds, poll_seconds=settings.stream_poll_seconds,
                           disconnected=request.is_disconnected, slot=slot)
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
