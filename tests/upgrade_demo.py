"""The demo company as an office that installed PropDesk long ago has it: loaded by the code of an
old release at that release's migration, then upgraded to head by today's migrations.

The tests of the demo (tests/test_demo*.py) run on it as well as on a freshly loaded demo, so a
migration that loses, breaks or fails to fill in an office's existing rows fails them.

The old code is taken from git (`git archive`), and its demo made now, so the data is as young as a
fresh demo's (the demo tests read "today"). Built once per test run, under a lock, by whichever
worker needs it first; the other workers copy the same template.
"""
from __future__ import annotations

import asyncio
import fcntl
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import asyncpg
import pytest

from app import migrations
from app.db import with_database
from app.demo import DemoLogin, DemoLogins
from tests import db

ROOT = Path(__file__).resolve().parent.parent
# The last release at the oldest migration with the whole demo (213277246efc: fee reports and the
# rest of the desk). Every migration after it runs on the old demo's rows.
OLD_RELEASE = "d47caeb"
OLD_REVISION = "213277246efc"

_LOAD_OLD_DEMO = """
import asyncio, dataclasses, json, sys
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from app import migrations
from app.demo import load_demo

async def main(url):
    await migrations.upgrade_async(url)
    engine = create_async_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as s:
        logins = await load_demo(s)
        await s.commit()
    await engine.dispose()
    print(json.dumps(dataclasses.asdict(logins)))

asyncio.run(main(sys.argv[1]))
"""


def _old_source(into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", OLD_RELEASE, "app", "alembic", "alembic.ini"],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        pytest.fail(f"the upgrade test needs release {OLD_RELEASE} from git history: {archive.stderr.decode()[:300]}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def _load_old_demo(url: str) -> DemoLogins:
    with tempfile.TemporaryDirectory(prefix="pd-old-release-") as old:
        _old_source(Path(old))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROPDESK_")}
        # -c with the old tree first on the path: its `app` package, not this checkout's, is imported.
        done = subprocess.run([sys.executable, "-c", _LOAD_OLD_DEMO, db.dsn(url).replace("postgresql://", "postgresql+asyncpg://", 1)],
                              cwd=old, env={**env, "PYTHONPATH": old, "PROPDESK_DATA_DIR": old},
                              capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"the old release's demo did not load: {done.stderr[-2000:]}")
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return DemoLogins(password=raw["password"], logins=[DemoLogin(**login) for login in raw["logins"]],
                      counts=raw.get("counts", {}))


async def _build(server: str, name: str) -> DemoLogins:
    await db.admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await db.admin_execute(server, f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    logins = await asyncio.to_thread(_load_old_demo, url)
    conn = await asyncpg.connect(db.dsn(url))
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == OLD_REVISION
    finally:
        await conn.close()
    await migrations.upgrade_async(url)
    return logins


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


async def upgraded_demo_template(server: str) -> tuple[str, DemoLogins]:
    """The upgraded demo's template database for this test run, built by the first worker to ask."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"solo{os.getpid()}")[:16]
    name = f"pd_upg_{run}"
    state = ROOT / ".test-data"
    state.mkdir(exist_ok=True)
    done = state / f"{name}.json"
    fd = await asyncio.to_thread(_lock, state / "upgraded-demo.lock")
    try:
        if not done.exists():
            for stale in state.glob("pd_upg_*.json"):  # an earlier run's: its database goes too
                await db.drop(server, stale.stem)
                stale.unlink()
            logins = await _build(server, name)
            done.write_text(json.dumps({"password": logins.password, "counts": logins.counts,
                                        "logins": [vars(login) for login in logins.logins]}))
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    raw = json.loads(done.read_text())
    return name, DemoLogins(password=raw["password"], logins=[DemoLogin(**x) for x in raw["logins"]], counts=raw["counts"])
