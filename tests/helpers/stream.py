"""The app on a real socket, and the event-stream frames read off it: shared by the stream tests."""
from __future__ import annotations

import asyncio
import json
import socket
from contextlib import asynccontextmanager

import httpx
import uvicorn

from app.main import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def served(settings, **update):
    """The app on a real socket: ASGITransport buffers a whole response, a stream needs a wire."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings.model_copy(update={"stream_max_seconds": 4.0, **update})),
                                           host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag to poll, not an event
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
