"""Stream tickets: how a browser's EventSource, which cannot send an Authorization header, opens
the event stream.

The signed-in client asks for a ticket (POST /stream/tickets, with its bearer token) and opens
`/stream?ticket=…`. A ticket is good for one connection, for a short while (a URL can end up in a
proxy's log or a browser's history: by then it is spent), and only there: it is no bearer token
anywhere else. It keeps the hash of the credential it was issued under, not a copy of the user's
rights: the stream sees what that token or API key sees when the connection opens, so a sign-out,
a revoked key or a disabled user in the meantime leaves the ticket worthless.

An EventSource reconnects to the same URL by itself, and a spent ticket answers 401: the client
takes a new ticket and opens a new EventSource with `last_event_id=` the last id it saw.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import DateTime, String, delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field

from app.domain.auth import secrets
from app.domain.auth import service as auth_service
from app.domain.auth.principal import Actor
from app.domain.base import Entity, rows_affected, utcnow
from app.domain.errors import NotAuthenticated

TICKET_PREFIX = "pds_"


class StreamTicket(Entity, table=True):
    __tablename__ = "stream_ticket"

    ticket_hash: str = Field(max_length=64, unique=True)
    # The bearer credential it was issued under, by hash: the stream's actor is that credential's.
    credential_hash: str = Field(max_length=64)
    is_api_key: bool = False
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    used_by: str | None = Field(default=None, sa_type=String(100))  # the client address that spent it


class StreamTicketRead(BaseModel):
    ticket: str
    expires_at: datetime
    stream_url: str  # relative: the stream, with the ticket on it


class TicketNotValid(NotAuthenticated):
    title = "The stream ticket is unknown, spent or expired; ask for a new one"
    title_zh = "事件流票据无效、已使用或已过期；请重新申请"


async def issue(session: AsyncSession, *, actor: Actor, credential: str, seconds: float) -> StreamTicketRead:
    """A ticket for one stream connection under the caller's credential (`actor` authenticated it)."""
    ticket = secrets.new_token(TICKET_PREFIX)
    row = StreamTicket(ticket_hash=secrets.token_hash(ticket), credential_hash=secrets.token_hash(credential),
                       is_api_key=actor.is_api_key, expires_at=utcnow() + timedelta(seconds=seconds))
    session.add(row)
    await session.flush()
    return StreamTicketRead(ticket=ticket, expires_at=row.expires_at, stream_url=f"/api/v1/stream?ticket={ticket}")


async def redeem(session: AsyncSession, *, ticket: str, client: str | None) -> Actor:
    """Spend the ticket (once: two connections racing with it, one wins) and authenticate its credential."""
    now = utcnow()
    spent = (await session.execute(
        update(StreamTicket).where(StreamTicket.ticket_hash == secrets.token_hash(ticket), StreamTicket.used_at.is_(None),
                                   StreamTicket.expires_at > now)
        .values(used_at=now, used_by=(client or "")[:100])
        .returning(StreamTicket.credential_hash, StreamTicket.is_api_key))).first()
    if spent is None:
        raise TicketNotValid()
    try:
        return await auth_service.authenticate_hash(session, credential_hash=spent.credential_hash, is_api_key=spent.is_api_key)
    except auth_service.InvalidToken as e:
        raise TicketNotValid("the token or key the ticket was issued under is no longer valid") from e


async def purge_expired(session: AsyncSession, *, older_than: datetime) -> int:
    """Tickets past their minute: spent or not, they open nothing now (kept a while to answer why)."""
    return rows_affected(await session.execute(delete(StreamTicket).where(StreamTicket.expires_at < older_than)))
