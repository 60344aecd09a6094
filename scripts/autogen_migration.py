"""Regenerate a migration against a scratch database: python scripts/autogen_migration.py "message".

Upgrades a fresh database to the current head, then lets Alembic compare it with the models.
"""
from __future__ import annotations

import asyncio
import sys
import uuid

from alembic import command

from app import migrations
from app.db import with_database
from tests import db


async def main(message: str) -> None:
    server = db.server_url()
    name = f"pd_autogen_{uuid.uuid4().hex[:6]}"
    await db.admin_execute(server, f'CREATE DATABASE "{name}"')
    try:
        url = with_database(server, name)
        await asyncio.to_thread(migrations.upgrade, url)
        cfg = migrations.alembic_config(url)
        await asyncio.to_thread(command.revision, cfg, message=message, autogenerate=True)
    finally:
        await db.drop(server, name)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "change"))
