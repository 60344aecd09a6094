"""What needs me now: the signed-in user's attention queue, and an estate's wall board."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from app.api.deps import SessionDep, require
from app.api.errors import problems
from app.domain.attention import service
from app.domain.attention.schemas import AttentionQueue, WallBoard
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.registry.errors import EstateNotFound

router = APIRouter(tags=["attention"])

Read = Annotated[Actor, Depends(require(Perm.attention_read))]


@router.get("/attention", response_model=AttentionQueue)
async def my_attention(actor: Read, session: SessionDep) -> AttentionQueue:
    """What I must act on now and soon, most urgent first: each with its deadline, the rule that
    raised it and the record to open. Computed from the records on every call; poll it freely."""
    return await service.queue(session, actor=actor)


@router.get("/estates/{estate_id}/attention", response_model=WallBoard, responses=problems(EstateNotFound))
async def wall_board(estate_id: uuid.UUID, actor: Read, session: SessionDep) -> WallBoard:
    """The estate's open items per kind and how many are overdue, for the screen on the office wall."""
    return await service.wall_board(session, actor=actor, estate_id=estate_id)
