"""Running the office's service: the API, the job clock and dispatcher, migrating, the demo company."""
from __future__ import annotations

import os
import signal
import time
from typing import Any

import typer

from app.cli.common import CliError, _check_secret, _database, _migrate, _prepare, _run, _settings
from app.config import Settings, get_settings
from app.db import session_scope, stop_embedded


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


def _proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise (FORWARDED_ALLOW_IPS):
    then anyone on this machine, or a proxy passing the header on, names any client address and
    steps around the per-address limits. Only PROPDESK_TRUSTED_PROXIES are believed; none by default."""
    trusted = settings.trusted_proxy_list
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}


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


def scheduler(
    no_dispatcher: bool = typer.Option(False, "--no-dispatcher", help="Leave webhooks and owner notifications "
                                       "to `propdesk dispatcher` processes."),
    demo: bool = _DEMO_SECRET,
) -> None:
    """Run the job clock and the dispatcher (webhooks, owner notifications), for APIs run with --no-scheduler."""
    _background(clock=True, dispatch=not no_dispatcher, demo=demo)


def dispatcher(demo: bool = _DEMO_SECRET) -> None:
    """Run only the dispatcher: webhooks and owner notifications. Any number may run at once."""
    _background(clock=False, dispatch=True, demo=demo)


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


def demo() -> None:
    """Migrate, then load the demo company (two estates, their roster, staff in every role)."""
    settings = _settings()
    _migrate(_run(_prepare(settings)))
    _run(_demo(settings, only_if_empty=False))

