"""Waking this process's event streams the moment an event commits, not at their next poll.

A stream reads the outbox every `stream_poll_seconds` (a second): fine for a payment on the
desk's screen, too slow for a ringing phone, whose caller must be on screen before the
receptionist picks up. A transaction of this process that wrote events rings the bell of their
estates after its commit, and the streams here following those estates read at once; the
others sleep on. Events committed by another process are still found by the poll: with several
API processes, the telephony integration should post to the one the desk's streams are on, or
the poll interval bounds the delay.
"""
from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Collection

from sqlalchemy import event
from sqlalchemy.orm import Session

# The estates a session wrote events for (outbox.emit adds them); rung when its transaction commits.
EMITTED = "outbox.emitted_estates"


class Doorbell:
    """Rings are counted per estate: a stream notes the count before it reads, and waits only if
    no ring came since -- an event committed between its read and its wait is not left for the
    next poll."""

    def __init__(self) -> None:
        self._waiting: dict[asyncio.Future[None], Collection[uuid.UUID]] = {}
        self._rings: Counter[uuid.UUID] = Counter()

    def rings(self, estates: Collection[uuid.UUID]) -> int:
        return sum(self._rings[e] for e in estates)

    def ring(self, estates: Collection[uuid.UUID]) -> None:
        self._rings.update(estates)
        woken = [f for f, theirs in self._waiting.items() if not set(theirs).isdisjoint(estates)]
        for future in woken:
            self._waiting.pop(future, None)
            loop = future.get_loop()
            if not loop.is_closed():
                # Safe from any thread: a job's session may commit on the scheduler's.
                loop.call_soon_threadsafe(_wake, future)

    async def wait(self, seconds: float, *, estates: Collection[uuid.UUID], since: int) -> bool:
        """Until one of `estates` rings after `since` rings (True), or `seconds` pass (False)."""
        if self.rings(estates) != since:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[future] = estates
        try:
            done, _ = await asyncio.wait({future}, timeout=seconds)
            return bool(done)
        finally:
            self._waiting.pop(future, None)
            future.cancel()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


bell = Doorbell()


def emitted(session: Session, estate_id: uuid.UUID) -> None:
    session.info.setdefault(EMITTED, set()).add(estate_id)


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    estates = session.info.pop(EMITTED, None)
    if estates:
        bell.ring(estates)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(EMITTED, None)
