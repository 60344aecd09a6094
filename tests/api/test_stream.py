"""The live feed over a real HTTP connection: events arrive as they commit, per estate, resumable."""
from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.events import stream
from tests.factories import make_staff
from tests.helpers.payments import API, desk, pay
from tests.helpers.problems import assert_422
from tests.helpers.stream import read_events, served


async def test_a_payment_reaches_the_desk_stream_and_other_estates_see_nothing(client, session, settings):
    d = await desk(session)
    colleague = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
    stranger = await make_staff(session, estates=[d.other], roles=[Role.receptionist])
    async with served(settings) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        async with http.stream("GET", f"{API}/stream", headers=colleague.headers) as mine, \
                http.stream("GET", f"{API}/stream", headers=stranger.headers) as theirs:
            assert mine.headers["content-type"].startswith("text/event-stream")
            paid = (await pay(client, d, amount="160.56")).json()
            [event] = await asyncio.wait_for(read_events(mine, 1), timeout=5)
            assert event["type"] == "payment.received" and event["data"]["data"]["receipt_number"] == paid["receipt"]["number"]
            assert await read_events(theirs, 1) == []  # the stream ends after its time, having shown nothing

        # Reconnecting after that event, a client gets what happened in between and nothing twice.
        await pay(client, d, amount="45.00")
        async with http.stream("GET", f"{API}/stream", headers={**colleague.headers, "Last-Event-ID": str(event["id"])}) as again:
            [missed] = await asyncio.wait_for(read_events(again, 1), timeout=5)
    assert missed["type"] == "payment.received" and missed["id"] > event["id"]
    assert missed["data"]["data"]["amount"] == "45.00"


async def test_permissions_and_bad_input(client, session):
    d = await desk(session)
    assert (await client.get(f"{API}/stream")).status_code == 401
    assert (await client.get(f"{API}/stream", params={"estate_id": str(d.other.id)}, headers=d.staff.headers)).status_code == 404
    assert_422(await client.get(f"{API}/stream", headers={**d.staff.headers, "Last-Event-ID": "abc"}), "last-event-id")
    assert_422(await client.get(f"{API}/stream", params={"types": "nope"}, headers=d.staff.headers), "types")
    r = await client.get(f"{API}/stream", params={"estate_id": str(d.estate.id)}, headers=d.staff.headers)
    assert r.status_code == 200 and r.text.startswith("retry:")


# --- how many streams one may hold ---------------------------------------------------------

@asynccontextmanager
async def opened(http: httpx.AsyncClient, staff):
    """A stream held open (its first frame read, so the server is really streaming it)."""
    async with http.stream("GET", f"{API}/stream", headers=staff.headers) as r:
        if r.status_code != 200:
            await r.aread()
            yield r
            return
        # Held here, not left to the garbage collector: closing the iterator would close the connection.
        lines = r.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
        yield r


async def open_when_freed(http: httpx.AsyncClient, staff, stack):
    """Open a stream, retrying while the server has not yet noticed that another one went away."""
    for _ in range(100):
        r = await stack.enter_async_context(opened(http, staff))
        if r.status_code != 429:
            return r
        await asyncio.sleep(0.05)
    return r


async def test_a_user_holds_at_most_the_cap_and_a_closed_stream_frees_its_slot(session, settings):
    d = await desk(session)
    colleague = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
    async with served(settings, stream_max_seconds=60.0, stream_max_per_user=3) as base, \
            httpx.AsyncClient(base_url=base, timeout=30) as http, AsyncExitStack() as held:
        streams = [await held.enter_async_context(opened(http, d.staff)) for _ in range(3)]
        assert [r.status_code for r in streams] == [200, 200, 200]
        async with opened(http, d.staff) as refused:
            assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
            problem = refused.json()
            assert (problem["type"], problem["scope"], problem["limit"]) == ("/problems/too-many-streams", "user", 3)
            assert 1 <= int(refused.headers["retry-after"]) <= 60
        async with opened(http, colleague) as theirs:  # the cap is per user
            assert theirs.status_code == 200

        async with AsyncExitStack() as again:
            # Closing one of the three (the client goes away mid-stream) gives its slot back ...
            await streams[0].aclose()
            assert (await open_when_freed(http, d.staff, again)).status_code == 200
            # ... and only that one.
            async with opened(http, d.staff) as refused:
                assert refused.status_code == 429


async def test_the_process_cap_counts_everyone(session, settings):
    d = await desk(session)
    others = [await make_staff(session, estates=[d.estate], roles=[Role.supervisor]) for _ in range(2)]
    async with served(settings, stream_max_seconds=60.0, stream_max_per_process=2) as base, \
            httpx.AsyncClient(base_url=base, timeout=30) as http, AsyncExitStack() as held:
        first = await held.enter_async_context(opened(http, d.staff))
        second = await held.enter_async_context(opened(http, others[0]))
        assert (first.status_code, second.status_code) == (200, 200)
        async with opened(http, others[1]) as refused:
            assert refused.status_code == 429 and refused.json()["scope"] == "process"
            assert refused.headers["retry-after"].isdigit()


async def test_a_stream_that_ends_by_itself_frees_its_slot(session, settings):
    d = await desk(session)
    async with served(settings, stream_max_seconds=0.3, stream_max_per_user=2) as base, \
            httpx.AsyncClient(base_url=base, timeout=30) as http:
        for _ in range(3):  # more streams in a row than the cap: each ended before the next
            ended = await asyncio.gather(*[http.get(f"{API}/stream", headers=d.staff.headers) for _ in range(2)])
            assert [r.status_code for r in ended] == [200, 200], [r.text for r in ended]


async def test_a_refused_stream_takes_no_slot_and_the_app_counts_per_request(app, client, session, settings):
    d = await desk(session)
    settings.stream_max_per_user = 1
    slots = app.state.stream_slots
    held = slots.take(stream.holder_of(Actor(id=d.staff.id, label="", company_id=None)), per_holder=1, per_process=0,
                      max_seconds=settings.stream_max_seconds)
    r = await client.get(f"{API}/stream", headers=d.staff.headers)
    assert r.status_code == 429 and r.json()["type"] == "/problems/too-many-streams"
    # Another estate's stream is 404 before any slot is looked at.
    assert (await client.get(f"{API}/stream", params={"estate_id": str(d.other.id)}, headers=d.staff.headers)).status_code == 404
    held.release()
    assert (await client.get(f"{API}/stream", headers=d.staff.headers)).status_code == 200
    assert slots.open == []
