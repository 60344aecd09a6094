"""The live feed over a real HTTP connection: events arrive as they commit, per estate, resumable."""
from __future__ import annotations

import asyncio
import json
import socket
from contextlib import asynccontextmanager

import httpx
import uvicorn

from app.domain.auth.roles import Role
from app.main import create_app
from tests.api.test_payments import API, desk, pay
from tests.factories import make_staff


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def served(settings):  # noqa: ANN001, ANN201
    """The app on a real socket: ASGITransport buffers a whole response, a stream needs a wire."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings.model_copy(update={"stream_max_seconds": 4.0})),
                                           host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def read_events(response: httpx.Response, n: int) -> list[dict]:
    events, current = [], {}
    async for line in response.aiter_lines():
        if line.startswith(("id:", "event:", "data:")):
            key, _, value = line.partition(": ")
            current[key] = value
        elif line == "" and "data" in current:
            events.append({"id": int(current["id"]), "type": current["event"], "data": json.loads(current["data"])})
            current = {}
            if len(events) == n:
                return events
    return events


async def test_a_payment_reaches_the_desk_stream_and_other_estates_see_nothing(client, session, settings):  # noqa: ANN001
    d = await desk(session)
    colleague = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
    stranger = await make_staff(session, estates=[d.other], roles=[Role.receptionist])
    async with served(settings) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
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


async def test_permissions_and_bad_input(client, session):  # noqa: ANN001
    d = await desk(session)
    assert (await client.get(f"{API}/stream")).status_code == 401
    assert (await client.get(f"{API}/stream", params={"estate_id": str(d.other.id)}, headers=d.staff.headers)).status_code == 404
    assert (await client.get(f"{API}/stream", headers={**d.staff.headers, "Last-Event-ID": "abc"})).status_code == 422
    assert (await client.get(f"{API}/stream", params={"types": "nope"}, headers=d.staff.headers)).status_code == 422
    r = await client.get(f"{API}/stream", params={"estate_id": str(d.estate.id)}, headers=d.staff.headers)
    assert r.status_code == 200 and r.text.startswith("retry:")
