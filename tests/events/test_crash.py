"""A process killed right after committing an event: the event is still delivered by the next one.

The worker (this module run with `python -m`) commits a payment-like event and then kills
itself with SIGKILL before any dispatcher could run; the test, as the restarted service,
dispatches what the dead process left behind.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from app.domain.events import dispatcher
from tests.events.receiver import Receiver
from tests.helpers.events import SECRET, subscribed

ROOT = Path(__file__).resolve().parents[2]


async def worker(url: str, estate_id: str) -> None:
    from app.db import make_engine, make_sessionmaker
    from app.domain.events import outbox
    from app.domain.events.model import EventType

    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        event = await outbox.emit(session, estate_id=uuid.UUID(estate_id), type=EventType.payment_received,
                                  entity="payment", entity_id="p-crash", data={"amount": "88.00"})
        await session.commit()
        print(event.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no dispatcher pass, no clean shutdown


async def test_an_event_committed_before_a_crash_is_delivered_after_restart(app, session, database_url):
    with Receiver(secret=SECRET) as receiver:
        estate, _ = await subscribed(session, receiver.url)
        proc = subprocess.Popen([sys.executable, "-m", "tests.events.test_crash", database_url, str(estate.id)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = await asyncio.to_thread(proc.communicate, timeout=60)
        assert proc.returncode == -signal.SIGKILL, err[-2000:]
        event_id = out.strip().splitlines()[-1]
        assert receiver.posts == []
        async with httpx.AsyncClient() as http:
            assert await dispatcher.deliver_due(app.state.sessionmaker, client=http) == 1
    assert receiver.per_event() == {event_id: 1}
    assert receiver.events[event_id]["data"] == {"amount": "88.00"}


if __name__ == "__main__":
    asyncio.run(worker(sys.argv[1], sys.argv[2]))
