"""Running Alembic from code: the CLI, the test suite and /readyz use this."""
from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alembic import command

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@functools.cache
def head_revision() -> str | None:
    """The code's migration head. Reading it parses every script under alembic/versions (40-90 ms):
    once per process, since the scripts are part of the code that runs (/readyz asks on every call)."""
    return ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://x/y")).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    # Alembic's async env runs its own event loop; keep it off ours.
    await asyncio.to_thread(upgrade, url, revision)


async def current_revision(conn: AsyncConnection) -> str | None:
    exists = (await conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL"))).scalar_one()
    if not exists:
        return None
    return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
