"""What every propdesk command shares: running a coroutine with failures as one-line messages,
fresh settings, a database with every table known, the CLI's actor, migrating, finding estates."""
from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import InsecureSecret, Settings, ensure_secret
from app.db import make_engine, make_sessionmaker, resolve_database_url
from app.domain.errors import DomainError

if TYPE_CHECKING:
    from app.domain.auth.principal import Actor

T = TypeVar("T")


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



async def _find_estates(session: AsyncSession, refs: list[str]) -> list[Any]:
    from app.domain.registry.model import Estate

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

