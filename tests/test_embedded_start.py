"""Several processes starting the embedded server together on a fresh data directory (test
workers on a new checkout, `propdesk serve --workers N` on a new machine) all get the one server."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = 6
# Each process spins on a start file so they all call start_embedded within microseconds, says
# which server it got, and stays until told to end: the first to exit would stop the server
# (cleanup_mode "stop") before the slower ones had joined it.
SCRIPT = """
import asyncio, sys
from pathlib import Path
from app.db import start_embedded
import asyncpg
go, end = Path(sys.argv[2]), Path(sys.argv[3])
while not go.exists():
    pass
url = start_embedded(Path(sys.argv[1]))
async def main():
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    print(await conn.fetchval("SHOW data_directory"), await conn.fetchval("SELECT pg_postmaster_start_time()"), flush=True)
    await conn.close()
asyncio.run(main())
while not end.exists():
    asyncio.run(asyncio.sleep(0.01))
"""


def test_processes_starting_together_on_a_fresh_directory_share_one_server(tmp_path: Path) -> None:
    data, go, end = tmp_path / "data", tmp_path / "go", tmp_path / "end"
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(data), str(go), str(end)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
    try:
        go.touch()
        answers = [p.stdout.readline().strip() for p in procs]  # type: ignore[union-attr]
        end.touch()
        errors = [p.communicate(timeout=60)[1][-800:] for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert all(p.returncode == 0 for p in procs), errors
    assert len(set(answers)) == 1, answers  # one data directory, one postmaster, started once
    assert answers[0].startswith(str((data / "pg").resolve()))


def test_a_pid_list_torn_by_a_killed_process_does_not_stop_the_next_start(tmp_path: Path) -> None:
    # The wheel rewrites .handle_pids.json in place; a serve killed mid-write left it empty, and
    # from then on every start of that data directory failed with a JSONDecodeError.
    data = tmp_path / "data"

    def start() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from app.db import start_embedded;"
                               " print(start_embedded(Path(sys.argv[1])))", str(data)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert start().returncode == 0  # made and stopped again
    (data / "pg" / ".handle_pids.json").write_text("")
    started = start()
    assert started.returncode == 0, started.stderr[-1500:]
    assert "postgresql+asyncpg://" in started.stdout
