"""The propdesk command against the test database, driven in-process with CliRunner.

The tests are plain functions: the commands run their own event loop, which cannot start
inside a running one. Async fixtures (the estate) are arranged before the test body runs.
"""
import asyncio

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.domain.auth.secrets import verify_password
from tests import db
from tests.factories import PASSWORD, make_estate, make_staff
from tests.helpers.cli import OFFICE, STRONG, fetch

runner = CliRunner()


@pytest.fixture
def env(settings, monkeypatch, tmp_path):
    monkeypatch.setenv("PROPDESK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PROPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return settings.database_url


@pytest.fixture
async def estates(session):
    qs = await make_estate(session, code="QS", name="淇水春天")
    xr = await make_estate(session, code="XR", name="祥瑞花园", company=None)
    return qs, xr


def invoke(*args: str, input: str | None = None):
    return runner.invoke(cli, list(args), input=input)


def assert_friendly(result, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert text in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_user_create(env, estates):
    result = invoke("user", "create", "--username", "qs.front2", "--full-name", "王芳", "--role", "receptionist",
                    "--role", "night_duty", "--estate", "qs", "--password", "teal-ladder-orbit")
    assert result.exit_code == 0, result.output
    assert "created qs.front2" in result.output
    [user] = fetch(env, "SELECT id, roles, password_hash, full_name FROM \"user\" WHERE username = 'qs.front2'")
    assert user["roles"] == ["receptionist", "night_duty"] and user["full_name"] == "王芳"
    assert verify_password(user["password_hash"], "teal-ladder-orbit")
    estates_of = fetch(env, "SELECT e.code FROM user_estate ue JOIN estate e ON e.id = ue.estate_id WHERE ue.user_id = $1", user["id"])
    assert [r["code"] for r in estates_of] == ["QS"]
    [entry] = fetch(env, "SELECT action, actor_label FROM audit_entry WHERE entity = 'user' AND entity_id = $1", str(user["id"]))
    assert entry["action"] == "create" and entry["actor_label"].startswith("cli:")


def test_user_create_by_estate_id_and_prompted_password(env, estates):
    qs, _ = estates
    result = invoke("user", "create", "--username", "qs.tech9", "--full-name", "李强", "--role", "technician",
                    "--estate", str(qs.id), input="long-enough-pw\nlong-enough-pw\n")
    assert result.exit_code == 0, result.output
    [user] = fetch(env, "SELECT password_hash FROM \"user\" WHERE username = 'qs.tech9'")
    assert verify_password(user["password_hash"], "long-enough-pw")


def test_user_create_refusals(env, estates):
    base = ["user", "create", "--full-name", "王芳", "--role", "receptionist", "--password", "teal-ladder-orbit"]
    assert_friendly(invoke(*base, "--username", "someone", "--estate", "NOPE"), "no estate with code or id 'NOPE'")
    # Estates of two companies cannot be granted together.
    assert_friendly(invoke(*base, "--username", "someone", "--estate", "QS", "--estate", "XR"), "different companies")
    assert_friendly(invoke(*base[:-1], "short", "--username", "someone", "--estate", "QS"), "password")
    assert_friendly(invoke(*base, "--username", "bad name!", "--estate", "QS"), "username")
    assert invoke(*base, "--username", "taken", "--estate", "QS").exit_code == 0
    assert_friendly(invoke(*base, "--username", "taken", "--estate", "QS"), "taken")
    assert [r["username"] for r in fetch(env, 'SELECT username FROM "user"')] == ["taken"]
    bad_role = invoke(*base[:3], "--role", "janitor", "--password", "teal-ladder-orbit", "--username", "x1", "--estate", "QS")
    assert bad_role.exit_code == 2 and "Traceback" not in bad_role.output  # click names the bad choice


async def _locked_staff(session, estates):
    staff = await make_staff(session, estates=[estates[0]], username="qs.locked")
    await session.commit()
    return staff


@pytest.fixture
async def locked(session, estates):
    return await _locked_staff(session, estates)


def test_reset_password(env, locked):
    result = invoke("user", "reset-password", "--username", "qs.locked", "--password", "brand-new-pass")
    assert result.exit_code == 0, result.output
    [user] = fetch(env, "SELECT password_hash FROM \"user\" WHERE username = 'qs.locked'")
    assert verify_password(user["password_hash"], "brand-new-pass")
    assert not verify_password(user["password_hash"], PASSWORD)
    actions = fetch(env, "SELECT action FROM audit_entry WHERE entity_id = $1", str(locked.id))
    assert [a["action"] for a in actions] == ["reset_password"]


def test_reset_password_refusals(env, locked):
    assert_friendly(invoke("user", "reset-password", "--username", "ghost", "--password", "brand-new-pass"),
                    "no user named 'ghost'")
    assert_friendly(invoke("user", "reset-password", "--username", "qs.locked", "--password", "short"), "password")
    [user] = fetch(env, "SELECT password_hash FROM \"user\" WHERE username = 'qs.locked'")
    assert verify_password(user["password_hash"], PASSWORD)


def test_weak_passwords_are_refused_with_the_reason(env, locked):
    base = ["user", "create", "--full-name", "王芳", "--role", "receptionist", "--estate", "QS", "--username", "weak.one"]
    for weak, reason in [("password123", "very common password"), ("1234567890", "common password"),
                         ("          ", "Repeats like")]:
        assert_friendly(invoke(*base, "--password", weak), reason)
        assert_friendly(invoke("user", "reset-password", "--username", "qs.locked", "--password", weak), reason)
    # A password built on the account's own name is too easy a guess, and the message says so.
    assert_friendly(invoke(*base, "--password", "weak.one.2026"), "own name")
    assert_friendly(invoke("user", "reset-password", "--username", "qs.locked", "--password", "qs.locked.2026"),
                    "new_password: It is built on the account's own name")
    assert fetch(env, "SELECT username FROM \"user\" WHERE username = 'weak.one'") == []
    [user] = fetch(env, "SELECT password_hash FROM \"user\" WHERE username = 'qs.locked'")
    assert verify_password(user["password_hash"], PASSWORD)


def test_unreachable_database_is_a_message(monkeypatch, tmp_path):
    monkeypatch.setenv("PROPDESK_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    result = invoke("user", "reset-password", "--username", "x", "--password", "brand-new-pass")
    assert_friendly(result, "cannot reach the database")


def test_jobs_list(env):
    registry = pytest.importorskip("app.jobs.registry", reason="the job clock is not merged yet")
    result = invoke("jobs", "list")
    assert result.exit_code == 0, result.output
    for name in registry.JOBS:
        assert name in result.output


def test_jobs_run_unknown(env):
    pytest.importorskip("app.jobs.registry", reason="the job clock is not merged yet")
    assert_friendly(invoke("jobs", "run", "no-such-job"), "no job named 'no-such-job'")


def test_jobs_run_company_wide_job(env, estates):
    pytest.importorskip("app.jobs.runner", reason="the job runner is not merged yet")
    from app.jobs.registry import JOBS

    name = next(n for n, spec in JOBS.items() if not spec.per_estate)
    result = invoke("jobs", "run", name, "--force")
    assert result.exit_code == 0, result.output
    assert f"{name}: 1 run(s)" in result.output
    # A company-wide job refuses an estate, by name, without a traceback.
    assert_friendly(invoke("jobs", "run", name, "--estate", "QS"), "error:")


def test_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("serve", "scheduler", "dispatcher", "migrate", "demo", "user", "jobs"):
        assert command in result.output


@pytest.fixture
def empty_database(pg_server, monkeypatch, tmp_path):
    """A database with nothing in it, for the commands that migrate."""
    import uuid

    from app.db import with_database

    name = f"pd_cli_{uuid.uuid4().hex[:10]}"
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as r:
        r.run(db.admin_execute(pg_server, f'CREATE DATABASE "{name}"'))
    url = with_database(pg_server, name)
    monkeypatch.setenv("PROPDESK_DATABASE_URL", url)
    monkeypatch.setenv("PROPDESK_DATA_DIR", str(tmp_path))
    yield url
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as r:
        r.run(db.drop(pg_server, name))


def test_migrate_then_demo(empty_database):
    result = invoke("migrate")
    assert result.exit_code == 0, result.output
    [version] = fetch(empty_database, "SELECT version_num FROM alembic_version")
    from app.migrations import head_revision

    assert version["version_num"] == head_revision()
    result = invoke("demo")
    assert result.exit_code == 0, result.output
    assert "propdesk-demo" in result.output and "qs.reception" in result.output and "admin" in result.output
    assert fetch(empty_database, "SELECT count(*) AS n FROM estate")[0]["n"] == 2
    # A second load is refused and changes nothing.
    assert_friendly(invoke("demo"), "already has a company")
    assert fetch(empty_database, "SELECT count(*) AS n FROM company")[0]["n"] == 1


# --- init, in-process: its refusals and the prompted password (the process run: test_cli_processes.py)


def test_init_refusals_and_password_typed_twice(empty_database):
    no_code = invoke("init", *OFFICE[:14], *OFFICE[16:], "--password-stdin", input=STRONG)
    assert no_code.exit_code == 2 and "--estate-code" in no_code.output
    assert_friendly(invoke("init", *OFFICE, "--script", "kanji", "--password-stdin", input=STRONG), "script")
    bad_code = [*OFFICE[:9], "91410700MA3X4B2K1Q", *OFFICE[10:]]
    assert_friendly(invoke("init", *bad_code, "--password-stdin", input=STRONG), "check character of 91410700MA3X4B2K1 is P")
    assert_friendly(invoke("init", *OFFICE[:15], "", *OFFICE[16:], "--password-stdin", input=STRONG), "code")
    assert_friendly(invoke("init", *OFFICE, "--password-stdin", input="short\n"), "password")
    # Nothing was written, so the next run is still a first run.
    mismatch = invoke("init", *OFFICE, input=f"{STRONG}\nsomething-else\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output
    result = invoke("init", *OFFICE, "--script", "traditional", input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    [admin] = fetch(empty_database, 'SELECT password_hash FROM "user"')
    assert verify_password(admin["password_hash"], STRONG)
    assert [e["script"] for e in fetch(empty_database, "SELECT script FROM estate")] == ["traditional"]
