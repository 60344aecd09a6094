"""What the benchmark scripts share: signing in over HTTP, and finding the running embedded server.

The scripts run as `python bench/<name>.py`, so bench/ is on sys.path and this imports as `common`.
"""
from __future__ import annotations

from pathlib import Path

import httpx

API = "/api/v1"


async def login(client: httpx.AsyncClient, username: str, password: str) -> None:
    """Sign in and keep the bearer token on the client for every later request."""
    r = await client.post(f"{API}/auth/login", json={"username": username, "password": password})
    r.raise_for_status()
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"


def embedded_dsn(data_dir: str | Path) -> str:
    """The running embedded server of a data directory, read from its postmaster.pid.

    Never starts or stops it: the benchmark measures the server `propdesk serve` started.
    """
    pid_file = Path(data_dir).resolve() / "pg" / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except OSError:
        raise SystemExit(f"no running embedded server ({pid_file}); start `propdesk serve` or give the URL") from None
    return f"postgresql://postgres@/propdesk?host={lines[4].strip()}&port={lines[3].strip()}"
