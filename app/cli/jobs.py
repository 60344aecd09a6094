"""`propdesk jobs`: the office's scheduled jobs, listed or run now outside their schedule."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import typer

from app.cli.common import _database, _fail, _find_estates, _run, _settings
from app.config import Settings

if TYPE_CHECKING:
    from app.jobs.registry import JobSpec

jobs_cli = typer.Typer(help="The office's scheduled jobs.", no_args_is_help=True)


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

