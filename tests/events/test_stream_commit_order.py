"""The stream and commit order: an event that commits after a later-numbered one still arrives.

Sequence numbers are taken at insert, not at commit: two desks' transactions commit in either
order. A reader that jumped past the later number while the earlier one was uncommitted must
still pick the earlier one up when it commits.
"""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.domain.events import outbox, stream
from app.domain.events.model import EventType, OutboxEvent
from tests.factories import make_estate


async def _emit(session, estate, name: str):
    return await outbox.emit(session, estate_id=estate.id, type=EventType.payment_received, entity="payment",
                             entity_id=name, data={"amount": "1.00"})


async def test_an_event_committed_late_is_not_skipped(app, session):
    estate = await make_estate(session)
    maker = app.state.sessionmaker
    after = (await session.execute(select(func.max(OutboxEvent.seq)))).scalar() or 0
    seen: list[str] = []

    async def disconnected() -> bool:
        return False

    frames = stream.follow(maker, estates=[estate.id], after=after, types=[], max_seconds=30, poll_seconds=0.05,
                           disconnected=disconnected)

    async def read() -> None:
        async for frame in frames:
            if frame.startswith("id:"):
                seen.append(frame.split("\ndata: ")[1])

    reader = asyncio.create_task(read())
    try:
        async with maker() as slow, maker() as quick:
            early = await _emit(slow, estate, "early")  # numbered first, committed last
            await slow.flush()
            late = await _emit(quick, estate, "late")
            await quick.commit()
            await _until(lambda: any('"late"' in s or str(late.id) in s for s in seen))
            await slow.commit()
            await _until(lambda: any(str(early.id) in s for s in seen), timeout=5)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
    assert early.seq < late.seq


async def _until(check, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")
