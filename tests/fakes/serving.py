"""An ASGI app on a free port of 127.0.0.1, in the test's own event loop: how the fakes serve."""
from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class Served:
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    @classmethod
    async def start(cls, app: Any, *, what: str) -> Served:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # the test runner's own
        served = cls(port=sock.getsockname()[1], server=server, task=asyncio.create_task(server.serve(sockets=[sock])))
        for _ in range(500):
            if server.started:
                return served
            await asyncio.sleep(0.01)
        raise RuntimeError(f"{what} did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task
