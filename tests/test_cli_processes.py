"""Every propdesk command as a real process, on an empty and on a demo data directory.

In-process runs (tests/test_cli.py) share the test run's imports, which hid a command importing
too few models: user reset-password crashed with NoReferencedTableError on a demo directory.
These run the installed `propdesk` the way an office does, and a parametrized test fails for a
command that has no test here.
"""
import importlib
import os
import signal
import stat
import subprocess
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
import typer

from app.cli import cli
from app.db import with_database
from app.domain.auth.secrets import verify_password
from tests import db
from tests.faults.procs import PROPDESK, environment, free_port
from tests.helpers.cli import OFFICE, STRONG, fetch

ROOT = db.ROOT
# Processes start slowly on a busy machine; the run's default (120 s) is for in-process tests.
pytestmark = pytest.mark.timeout(400)


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**env, "COLUMNS": "200", "NO_COLOR": "1"}  # click's usage errors, unwrapped
    return subprocess.run([str(PROPDESK), *args], env=env, input=stdin, capture_output=True, text=True, timeout=180, cwd=ROOT)


def assert_refused(result: subprocess.CompletedProcess, text: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert text in result.stderr and "Traceback" not in result.stderr, result.stderr


async def _new_database(server: str, prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await db.admin_execute(server, f'CREATE DATABASE "{name}"')
    return name, with_database(server, name)


@pytest.fixture(scope="module")
async def demo_dir(pg_server, template_db, tmp_path_factory):
    """One demo data directory for this module: a copy of the worker's demo company (the
    models' schema equals the migrations', tests/test_migrations.py), stamped at head."""
    from app.migrations import head_revision
    from tests.conftest import _demo_template

    template, _ = await _demo_template(pg_server, template_db)
    name = await db.clone(pg_server, template)
    url = with_database(pg_server, name)
    conn = await asyncpg.connect(db.dsn(url))
    try:
        await conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        await conn.execute("INSERT INTO alembic_version VALUES ($1)", head_revision())
    finally:
        await conn.close()
    yield environment(url, tmp_path_factory.mktemp("demo-data"))
    await db.drop(pg_server, name)


@pytest.fixture
async def empty_dir(pg_server, tmp_path):
    """A data directory whose database has nothing in it, not even a schema."""
    name, url = await _new_database(pg_server, "pd_cli_empty")
    yield environment(url, tmp_path)
    await db.drop(pg_server, name)


def test_process_demo(demo_dir):
    # Loading itself runs in-process in test_migrate_then_demo (the same code, 15 s cheaper).
    assert_refused(run(demo_dir, "demo"), "already has a company")
    assert fetch(demo_dir["PROPDESK_DATABASE_URL"], "SELECT count(*) AS n FROM company")[0]["n"] == 1


def test_process_migrate(empty_dir):
    result = run(empty_dir, "migrate")
    assert result.returncode == 0, result.stderr
    from app.migrations import head_revision

    [row] = fetch(empty_dir["PROPDESK_DATABASE_URL"], "SELECT version_num FROM alembic_version")
    assert row["version_num"] == head_revision()


def test_process_init(empty_dir):
    url = empty_dir["PROPDESK_DATABASE_URL"]
    result = run(empty_dir, "init", *OFFICE, "--password-stdin", stdin=STRONG + "\n")
    assert result.returncode == 0, result.stderr
    assert "QS" in result.stdout and "admin" in result.stdout
    [company] = fetch(url, "SELECT id, name, legal_name, credit_code, address, phone FROM company")
    assert (company["name"], company["credit_code"]) == ("祥瑞物業", "91410700MA3X4B2K1P")
    [estate] = fetch(url, "SELECT code, office_name, company_id FROM estate")
    assert (estate["code"], estate["company_id"]) == ("QS", company["id"])
    [admin] = fetch(url, 'SELECT id, roles, password_hash FROM "user"')
    assert admin["roles"] == ["admin"] and verify_password(admin["password_hash"], STRONG)
    assert fetch(url, "SELECT count(*) AS n FROM user_estate WHERE user_id = $1", admin["id"])[0]["n"] == 1
    actions = {(r["entity"], r["action"]) for r in fetch(url, "SELECT entity, action FROM audit_entry")}
    assert actions == {("company", "create"), ("estate", "create"), ("user", "create")}
    assert_refused(run(empty_dir, "init", *OFFICE, "--password-stdin", stdin=STRONG), "already has a company")
    assert fetch(url, "SELECT count(*) AS n FROM company")[0]["n"] == 1


def test_process_user_reset_password(demo_dir, empty_dir):
    result = run(demo_dir, "user", "reset-password", "--username", "admin", "--password", STRONG)
    assert result.returncode == 0, result.stderr
    [admin] = fetch(demo_dir["PROPDESK_DATABASE_URL"], "SELECT password_hash FROM \"user\" WHERE username = 'admin'")
    assert verify_password(admin["password_hash"], STRONG)
    assert_refused(run(empty_dir, "user", "reset-password", "--username", "admin", "--password", STRONG), "error:")


def test_process_user_create(demo_dir):
    args = ["user", "create", "--username", "qs.front9", "--full-name", "王芳", "--role", "receptionist", "--estate", "QS",
            "--password", STRONG]
    result = run(demo_dir, *args)
    assert result.returncode == 0, result.stderr
    assert "created qs.front9" in result.stdout


def test_process_jobs_list(empty_dir):
    from app.jobs.registry import JOBS

    result = run(empty_dir, "jobs", "list")  # the list needs no database
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in JOBS)


def test_process_jobs_run(demo_dir):
    from app.jobs.registry import JOBS

    name = next(n for n, spec in JOBS.items() if not spec.per_estate)
    result = run(demo_dir, "jobs", "run", name, "--force")
    assert result.returncode == 0, result.stderr
    assert f"{name}: 1 run(s)" in result.stdout


def _wait_ready(proc: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready")


def _serve_once(env: dict[str, str]) -> str:
    port = free_port()
    proc = subprocess.Popen([str(PROPDESK), "serve", "--port", str(port), "--no-scheduler"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_ready(proc, f"http://127.0.0.1:{port}")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    return err


def _secret_file(env: dict[str, str]) -> Path:
    return Path(env["PROPDESK_DATA_DIR"]) / "secret.key"


def test_process_serve(demo_dir, tmp_path):
    # One start (a start costs seconds); the same secret on the next start: tests/test_secret.py.
    env = {**demo_dir, "PROPDESK_DATA_DIR": str(tmp_path)}
    log = _serve_once(env)
    assert "generated a signing secret" in log and len(_secret_file(env).read_text().strip()) >= 40
    assert stat.S_IMODE(os.stat(_secret_file(env)).st_mode) == 0o600
    refused = run({**env, "PROPDESK_SECRET": "change-me-in-production"}, "serve", "--port", str(free_port()))
    assert_refused(refused, "PROPDESK_SECRET is the published example")


def _scheduler_once(env: dict[str, str], *args: str) -> str:
    proc = subprocess.Popen([str(PROPDESK), "scheduler", *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # It says so on stderr once the clock runs; give it the time to get there, then stop it.
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "".join(lines)
            lines.append(line)
            if "running: job clock" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "".join(lines) + rest
    return "".join(lines) + rest


def test_process_scheduler(demo_dir, tmp_path):
    env = {**demo_dir, "PROPDESK_DATA_DIR": str(tmp_path)}
    refused = run({**env, "PROPDESK_SECRET": "change-me-in-production"}, "scheduler")
    assert_refused(refused, "PROPDESK_SECRET is the published example")
    assert not _secret_file(env).exists()
    log = _scheduler_once(env)
    assert "generated a signing secret" in log
    assert stat.S_IMODE(os.stat(_secret_file(env)).st_mode) == 0o600


def _command_paths(group: typer.core.TyperGroup, prefix: tuple[str, ...] = ()) -> list[str]:
    out = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group of subcommands
            out += _command_paths(command, (*prefix, name))
        else:
            out.append(" ".join((*prefix, name)))
    return out


# Each command, and the test that runs it as a process.
PROCESS_TESTS = {
    "serve": "test_process_serve", "scheduler": "test_process_scheduler", "migrate": "test_process_migrate",
    "demo": "test_process_demo", "init": "test_process_init", "user create": "test_process_user_create",
    "user reset-password": "test_process_user_reset_password", "jobs list": "test_process_jobs_list",
    "jobs run": "test_process_jobs_run",
    # Run as processes by the tests of their own area.
    "backup": "tests.test_backup::test_backup_restore_into_a_new_data_directory_and_serve_it",
    "restore": "tests.test_backup::test_move_from_embedded_to_another_server",
    "dispatcher": "tests.deploy.test_scaled_deployment::test_two_apis_a_scheduler_and_extra_dispatchers",
}


@pytest.mark.parametrize("command", sorted(_command_paths(typer.main.get_command(cli))))
def test_every_command_runs_as_a_process_somewhere(command):
    assert command in PROCESS_TESTS, f"`propdesk {command}` has no subprocess test: add one and list it in PROCESS_TESTS"
    module, _, name = PROCESS_TESTS[command].rpartition("::")
    where = vars(importlib.import_module(module)) if module else globals()
    assert callable(where.get(name)), f"{PROCESS_TESTS[command]} is not a test"
