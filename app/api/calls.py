"""The desk's phone (screen pop): a call rings, every desk screen of the estate shows who it is."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.deps import SessionDep, require
from app.api.errors import problems
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.desk import calls
from app.domain.desk.schemas import IncomingCallCreate, IncomingCallRead
from app.domain.registry.errors import EstateNotFound, UnreadablePhone
from app.domain.types import EXACT_DAY

router = APIRouter(tags=["calls"])

Answer = Annotated[Actor, Depends(require(Perm.calls_answer))]
Day = Annotated[date | None, Query(alias="date", ge=date(2000, 1, 1), le=date(2999, 12, 31),
                                   description="An estate-local day; default today in the estate's time zone"), EXACT_DAY]


@router.post("/estates/{estate_id}/calls", response_model=IncomingCallRead,
             responses=problems(EstateNotFound, UnreadablePhone))
@idempotent(200)
async def announce_call(estate_id: uuid.UUID, body: IncomingCallCreate, actor: Answer, session: SessionDep) -> IncomingCallRead:
    """The phone rings: post the caller's number (the telephony integration, with an API key holding
    `calls:answer`, or the desk client). Every desk stream of the estate gets a `call.incoming` event
    with the caller's owners, units, open requests and arrears; the answer carries the same lookup.
    Technicians and other roles that do not answer the phone never see the event."""
    return await calls.announce(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/calls", response_model=list[IncomingCallRead], responses=problems(EstateNotFound))
async def list_calls(estate_id: uuid.UUID, actor: Answer, session: SessionDep, day: Day = None) -> list[IncomingCallRead]:
    """The day's calls, latest first, each with the lookup made when it rang: a screen that was
    closed sees who called."""
    return await calls.list_calls(session, actor=actor, estate_id=estate_id, day=day)
