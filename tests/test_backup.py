"""propdesk backup / restore as an office runs them: real processes, real servers, the demo company.

The source is a copy of the demo on the test server; the restores go into a new embedded data
directory (a server of its own) and into "another server" given by DATABASE_URL, which is how an
office moves from the embedded server to a PostgreSQL server.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from app import backup, migrations
from app.db import EMBEDDED_DB_NAME, start_embedded, with_database
from tests import db
from tests.faults.private_pg import PrivatePostgres
from tests.faults.procs import PROPDESK, ROOT, environment, free_port, stop, wait_healthy

PHOTO = b"\xff\xd8\xff\xe0 not really a photo, but the bytes must come back"


def propdesk(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROPDESK), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def embedded_env(data_dir: Path) -> dict[str, str]:
    env = environment("", data_dir)
    del env["PROPDESK_DATABASE_URL"]
    return env


@pytest.fixture
def scratch() -> Iterator[Path]:
    # Under /tmp and traversable by all: as root, the wheel runs the server as its own user.
    root = Path(tempfile.mkdtemp(prefix="pd-backup-", dir="/tmp"))
    root.chmod(0o755)
    yield root
    from app.db import stop_embedded

    stop_embedded(root / "restored")
    shutil.rmtree(root, ignore_errors=True)


async def _facts(url: str) -> tuple[dict[str, int], list[tuple]]:
    conn = await asyncpg.connect(db.dsn(url))
    try:
        counts = await backup.row_counts(conn)
        receipts = [tuple(r) for r in await conn.fetch(
            "SELECT number, amount, status, issued_at FROM receipt ORDER BY number")]
        return counts, receipts
    finally:
        await conn.close()


async def _stamp_head(url: str) -> None:
    # Test databases are built from the models, which tests/test_migrations.py holds equal to head.
    conn = await asyncpg.connect(db.dsn(url))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(32) PRIMARY KEY)")
        await conn.execute("INSERT INTO alembic_version VALUES ($1)", migrations.head_revision())
    finally:
        await conn.close()


async def _backup_demo(database_url: str, scratch: Path) -> Path:
    await _stamp_head(database_url)
    source_data = scratch / "source"
    photo = source_data / "uploads" / "e1" / "2026" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(PHOTO)
    archive = scratch / "propdesk.tar"
    done = propdesk("backup", str(archive), env=environment(database_url, source_data))
    assert done.returncode == 0, done.stderr
    assert "backup written to" in done.stdout
    return archive


@pytest.mark.demo
async def test_backup_restore_into_a_new_data_directory_and_serve_it(database_url, demo_logins, scratch):
    archive = await _backup_demo(database_url, scratch)
    assert archive.stat().st_mode & 0o077 == 0, "the archive holds password hashes: owner-only"
    manifest = backup.read_manifest(archive)
    counts, receipts = await _facts(database_url)
    assert manifest["row_counts"] == counts and manifest["files"] == 1
    assert counts["receipt"] > 1000 and manifest["revision"] == migrations.head_revision()

    restored = scratch / "restored"
    done = propdesk("restore", str(archive), env=embedded_env(restored))
    assert done.returncode == 0, done.stderr
    assert (restored / "uploads" / "e1" / "2026" / "photo.jpg").read_bytes() == PHOTO
    url = with_database(start_embedded(restored), EMBEDDED_DB_NAME)
    assert await _facts(url) == (counts, receipts)

    again = propdesk("restore", str(archive), env=embedded_env(restored))
    assert again.returncode == 1 and "not empty" in again.stderr and "Traceback" not in again.stderr

    from app.db import stop_embedded

    stop_embedded(restored)  # the service below starts the restored server itself, as an office would
    await _serve_and_sign_in(restored, demo_logins)


async def _serve_and_sign_in(data_dir: Path, demo_logins) -> None:
    port = free_port()
    with (data_dir / "serve.log").open("ab") as log:
        proc = subprocess.Popen([str(PROPDESK), "serve", "--port", str(port), "--no-scheduler"], cwd=ROOT,
                                env={**embedded_env(data_dir), "PROPDESK_SECRET": "restored-test-secret-" + "x" * 20},
                                stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base, proc)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            assert (await http.get("/readyz")).status_code == 200
            signed = await http.post("/api/v1/auth/login", json={"username": "admin", "password": demo_logins.password})
            assert signed.status_code == 200, signed.text
            token = signed.json()["access_token"]
            me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200 and len(me.json()["estate_ids"]) == 2
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                stop(proc)


@pytest.mark.demo
async def test_move_from_embedded_to_another_server(database_url, scratch):
    archive = await _backup_demo(database_url, scratch)
    counts, receipts = await _facts(database_url)
    other = PrivatePostgres()
    try:
        await db.admin_execute(other.url, "CREATE DATABASE propdesk")
        target = with_database(other.url, "propdesk")
        env = environment(target, scratch / "server-data")
        done = propdesk("restore", str(archive), env=env)
        assert done.returncode == 0, done.stderr
        assert await _facts(target) == (counts, receipts)
        # Replacing a database that is not empty takes --force, and leaves the backup's rows exactly.
        conn = await asyncpg.connect(db.dsn(target))
        await conn.execute("CREATE TABLE stray (x int); INSERT INTO stray VALUES (1)")
        await conn.close()
        assert propdesk("restore", str(archive), env=env).returncode == 1
        forced = propdesk("restore", "--force", str(archive), env=env)
        assert forced.returncode == 0, forced.stderr
        assert await _facts(target) == (counts, receipts)
    finally:
        other.close()


def test_a_file_that_is_not_a_backup_is_refused(tmp_path):
    bogus = tmp_path / "notes.tar"
    bogus.write_bytes(b"not a tar at all")
    done = propdesk("restore", str(bogus), env=embedded_env(tmp_path / "data"))
    assert done.returncode == 1 and "not a PropDesk backup" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "pg").exists(), "no server is made for a file that is not a backup"


def test_an_archive_cannot_write_outside_uploads(tmp_path):
    archive = tmp_path / "crafted.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in [("manifest.json", json.dumps({"format": backup.FORMAT}).encode()),
                           ("database.dump", b"-"), ("uploads/../../escaped.txt", b"x"), ("/etc/escaped", b"x"),
                           ("uploads/ok/a.jpg", b"ok")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, __import__("io").BytesIO(data))
    uploads = tmp_path / "deep" / "uploads"
    work = tmp_path / "work"
    work.mkdir()
    backup._extract(archive, work, uploads)
    assert (uploads / "ok" / "a.jpg").read_bytes() == b"ok"
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "deep" / "escaped.txt").exists()
    assert sorted(p.name for p in uploads.rglob("*") if p.is_file()) == ["a.jpg"]
