"""Two dispatcher processes on one database never send the same delivery at the same time.

Both OS processes (this module run with `python -m`) poll the same outbox at once; the
receiver, a real HTTP server in the test process, answers slowly so that their passes
overlap. Every event must arrive exactly once: SKIP LOCKED hands each delivery to one.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from app.domain.events.model import DeliveryStatus, WebhookDelivery
from tests.events.receiver import Receiver
from tests.helpers.events import SECRET, emit, subscribed

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 60


async def worker(url: str, start_at: float) -> dict:
    import time

    import httpx

    from app.db import make_engine, make_sessionmaker
    from app.domain.events import dispatcher

    engine = make_engine(url)
    # Both processes begin together, whatever their start-up took.
    await asyncio.sleep(max(0.0, start_at - time.time()))
    tried, idle = 0, 0
    async with httpx.AsyncClient() as http:
        while idle < 3:
            n = await dispatcher.deliver_due(make_sessionmaker(engine), client=http, batch=5)
            tried += n
            idle = idle + 1 if n == 0 else 0
            if n == 0:
                await asyncio.sleep(0.05)
    await engine.dispose()
    return {"tried": tried}


async def test_two_processes_deliver_each_event_once(session, database_url):
    with Receiver(secret=SECRET, delay=0.02) as receiver:
        estate, _ = await subscribed(session, receiver.url)
        events = await emit(session, estate, n=EVENTS)
        start_at = str(time.time() + 5)
        procs = [subprocess.Popen([sys.executable, "-m", "tests.events.test_two_dispatchers", database_url, start_at], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        reports = []
        for proc in procs:
            out, err = await asyncio.to_thread(proc.communicate, timeout=110)
            assert proc.returncode == 0, err[-3000:]
            reports.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["tried"] > 0 for r in reports), f"both processes must have delivered some: {reports}"
    assert sum(r["tried"] for r in reports) == EVENTS
    assert receiver.per_event() == {str(e.id): 1 for e in events}
    assert all(p["valid"] for p in receiver.posts)
    delivered = (await session.execute(select(func.count()).select_from(WebhookDelivery)
                                       .where(WebhookDelivery.status == DeliveryStatus.delivered.value))).scalar_one()
    assert delivered == EVENTS


if __name__ == "__main__":
    print(json.dumps(asyncio.run(worker(sys.argv[1], float(sys.argv[2])))))
