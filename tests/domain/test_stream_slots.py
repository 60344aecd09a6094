"""Stream slots: a cap per holder and per process, given back once, lost ones forgotten in time."""
from __future__ import annotations

import pytest

from app.domain.events import stream
from app.domain.events.stream import StreamSlots, TooManyStreams


def test_per_holder_and_per_process_caps():
    slots = StreamSlots()
    mine = [slots.take("user:a", per_holder=2, per_process=3, max_seconds=300) for _ in range(2)]
    with pytest.raises(TooManyStreams) as err:
        slots.take("user:a", per_holder=2, per_process=3, max_seconds=300)
    assert (err.value.extra["scope"], err.value.extra["limit"]) == ("user", 2)
    assert 1 <= err.value.extra["retry_after_seconds"] <= 300
    slots.take("user:b", per_holder=2, per_process=3, max_seconds=300)
    with pytest.raises(TooManyStreams) as err:
        slots.take("user:c", per_holder=2, per_process=3, max_seconds=300)
    assert err.value.extra["scope"] == "process"
    mine[0].release()
    mine[0].release()  # twice: the stream's end and its response both give it back
    assert slots.held_by("user:a") == 1
    slots.take("user:c", per_holder=2, per_process=3, max_seconds=300)


def test_no_cap_when_zero():
    slots = StreamSlots()
    for _ in range(20):
        slots.take("user:a", per_holder=0, per_process=0, max_seconds=300)
    assert slots.held_by("user:a") == 20


def test_a_slot_held_far_past_the_streams_life_is_forgotten():
    slots = StreamSlots()
    lost = slots.take("user:a", per_holder=1, per_process=0, max_seconds=10)
    lost.started -= 10 + stream.STALE_AFTER_SECONDS + 1  # its response never ran, so nothing gave it back
    slots.take("user:a", per_holder=1, per_process=0, max_seconds=10)
    assert slots.held_by("user:a") == 1


async def test_follow_gives_its_slot_back_when_it_ends():
    slots = StreamSlots()
    slot = slots.take("user:a", per_holder=1, per_process=0, max_seconds=0)

    async def gone() -> bool:
        return True

    frames = [f async for f in stream.follow(None, estates=[], after=0, types=[], max_seconds=0, poll_seconds=0.01,  # type: ignore[arg-type]
                                             disconnected=gone, slot=slot)]
    assert frames[0].startswith("retry:") and slots.open == []
