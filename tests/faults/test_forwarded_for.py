"""`propdesk serve` believes X-Forwarded-For only from PROPDESK_TRUSTED_PROXIES.

uvicorn believes it from 127.0.0.1 unless told otherwise: a client on this machine (or behind a
proxy that passes the header on) named a new address with each request and was never held by the
per-address sign-in limit. Real processes: the command as deployed, on a free port.
"""
from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from app.db import with_database
from tests import db
from tests.faults.procs import environment, free_port, stop, wait_healthy

PER_ADDRESS = 3


@asynccontextmanager
async def served(database_url: str, tmp_path: Path, **extra: str) -> AsyncIterator[str]:
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    # Failures per address in a day-long window: no window ends halfway through the test.
    env = environment(database_url, tmp_path, PROPDESK_LOGIN_IP_MAX_FAILURES=str(PER_ADDRESS),
                      PROPDESK_LOGIN_THROTTLE_MINUTES="1440", **extra)
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-scheduler"],
                                cwd=Path(__file__).resolve().parents[2], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            await wait_healthy(base, proc, timeout=240)  # migrates an empty database first
        except AssertionError:
            print(log.read_text(errors="replace")[-3000:])
            raise
        yield base
    finally:
        stop(proc)


async def attempts(base: str, forwarded: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        out = []
        for address in forwarded:
            r = await http.post("/api/v1/auth/login", json={"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "a-guess-123"},
                                headers={"X-Forwarded-For": address})
            assert r.headers["content-type"].startswith("application/problem+json")
            out.append(r.status_code)
        return out


@pytest.mark.timeout(600)  # two servers start, each migrating
async def test_forwarded_for_counts_only_from_a_trusted_proxy(pg_server, tmp_path):
    name = f"pd_proxy_{uuid.uuid4().hex[:10]}"
    await db.admin_execute(pg_server, f'CREATE DATABASE "{name}"')  # `serve` migrates it
    url = with_database(pg_server, name)
    spoofed = [f"198.51.100.{n}" for n in range(1, 2 * PER_ADDRESS + 1)]
    try:
        async with served(url, tmp_path) as base:
            # Each request names another address, but they all come from 127.0.0.1.
            assert await attempts(base, spoofed) == [401] * PER_ADDRESS + [429] * PER_ADDRESS
        async with served(url, tmp_path, PROPDESK_TRUSTED_PROXIES="127.0.0.1") as base:
            # Behind a trusted proxy the forwarded address is the client: each is a new one...
            assert await attempts(base, [f"203.0.113.{n}" for n in range(1, 2 * PER_ADDRESS + 1)]) == [401] * 2 * PER_ADDRESS
            # ...and one client behind it is held by its own limit.
            assert await attempts(base, ["192.0.2.50"] * (PER_ADDRESS + 1)) == [401] * PER_ADDRESS + [429]
    finally:
        await db.drop(pg_server, name)
