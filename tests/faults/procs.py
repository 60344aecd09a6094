"""Real OS processes for the fault tests: the API under uvicorn, a CLI command, and how to kill them."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PROPDESK = Path(sys.executable).parent / "propdesk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPDESK_") and k != "DATABASE_URL"}
    return {**env, "PROPDESK_DATABASE_URL": database_url, "PROPDESK_DATA_DIR": str(data_dir),
            "PROPDESK_SCHEDULER_ENABLED": "false", "PROPDESK_LOG_JSON": "false",
            # The tests' webhook receivers listen on this machine.
            "PROPDESK_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8", **extra}


def start_api(database_url: str, *, port: int, log: Path, **extra: str) -> subprocess.Popen:
    """uvicorn on the app factory, straight on the given database (no migration step: the test
    databases are built from the models)."""
    cmd = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--no-access-log", "--log-level", "warning"]
    with log.open("ab") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=environment(database_url, log.parent, **extra),
                                stdout=out, stderr=subprocess.STDOUT)


def start_cli(database_url: str, *args: str, log: Path, **extra: str) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([str(PROPDESK), *args], cwd=ROOT, env=environment(database_url, log.parent, **extra),
                                stdout=out, stderr=subprocess.STDOUT)


async def wait_until(check: Callable[[], object], *, timeout: float, what: str, every: float = 0.05) -> object:
    """Poll `check` (sync or async) until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)


async def wait_healthy(base: str, proc: subprocess.Popen, *, timeout: float = 60) -> None:
    async def up() -> bool:
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            async with httpx.AsyncClient(timeout=1) as http:
                return (await http.get(f"{base}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await wait_until(up, timeout=timeout, what=f"{base}/healthz")


def sigkill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def stop(proc: subprocess.Popen) -> None:
    """End a process this test started, whatever state it is in."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
