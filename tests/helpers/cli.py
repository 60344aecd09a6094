"""Running the propdesk command and reading what it printed."""
from __future__ import annotations

import asyncio

import asyncpg

from tests import db


def fetch(url: str, sql: str, *args):
    async def go():
        conn = await asyncpg.connect(db.dsn(url))
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as r:
        return r.run(go())

STRONG = "Correct-Horse-Battery-42"

OFFICE = ["--legal-name", "新乡市祥瑞物业服务有限公司", "--short-name", "祥瑞物業", "--address", "河南省新乡市平原路 88 号",
          "--phone", "0373-5551234", "--credit-code", "91410700MA3X4B2K1P", "--estate-name", "淇水春天",
          "--office-name", "淇水春天管理處", "--estate-code", "QS", "--admin-full-name", "王经理"]
