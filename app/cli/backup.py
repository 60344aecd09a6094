"""propdesk backup / restore: the commands around app/backup.py.

app/cli/__init__.py registers them; the helpers every command shares are in app/cli/common.py.
"""
from __future__ import annotations

from pathlib import Path

import typer

from app import backup as backups
from app.config import Settings
from app.db import resolve_database_url, stop_embedded


async def _backup(settings: Settings, target: Path) -> str:
    from app.cli.common import CliError

    url = await resolve_database_url(settings.database_url, settings.data_dir)
    with backups.as_cli_errors(CliError):
        result = await backups.backup(url=url, upload_dir=settings.upload_dir, target=target)
    rows = sum(result.manifest["row_counts"].values())
    return (f"backup written to {result.path}: {result.bytes / 1e6:.1f} MB, {rows} rows in "
            f"{len(result.manifest['row_counts'])} tables, {result.manifest['files']} files, "
            f"migration {result.manifest['revision']}, {result.seconds:.1f} s")


def backup(file: Path = typer.Argument(..., help="The archive to write, e.g. propdesk-2026-12-03.tar.")) -> None:
    """Write one archive of the database and the uploaded files, with a manifest."""
    from app.cli.common import _run, _settings

    settings = _settings()
    try:
        typer.echo(_run(_backup(settings, file)))
    finally:
        if not settings.database_url:
            stop_embedded(settings.data_dir)


async def _restore(settings: Settings, archive: Path, force: bool) -> str:
    from app.cli.common import CliError

    with backups.as_cli_errors(CliError):
        backups.read_manifest(archive)  # a wrong file fails before an embedded server is made for it
        url = await resolve_database_url(settings.database_url, settings.data_dir)
        manifest = await backups.restore(archive=archive, url=url, upload_dir=settings.upload_dir, force=force)
    rows = sum(manifest["row_counts"].values())
    return (f"restored the backup of {manifest['created_at']}: {rows} rows in {len(manifest['row_counts'])} "
            f"tables, {manifest['files']} files, migration {manifest['revision']}; row counts checked")


def restore(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="An archive written by `propdesk backup`."),
    force: bool = typer.Option(False, "--force", help="Replace the data of a database that is not empty."),
) -> None:
    """Restore a backup into an empty data directory or database (PROPDESK_DATA_DIR / DATABASE_URL)."""
    from app.cli.common import _run, _settings

    settings = _settings()
    try:
        typer.echo(_run(_restore(settings, file, force)))
    finally:
        if not settings.database_url:
            stop_embedded(settings.data_dir)
