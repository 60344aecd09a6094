"""COPY into PostgreSQL, with the secondary indexes set aside while the rows go in.

Building an index once over loaded rows (a sort) is several times cheaper than updating it
for every row, so the loader drops each table's indexes and unique constraints except the
primary key, saves their definitions to a file first (to restore them by hand should the
load die), and recreates them at the end, which also checks every unique rule. The loading
connection skips foreign-key and audit triggers (`session_replication_role = replica`,
superuser only) and does not wait for the WAL flush of each COPY.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from bench.bigdata.rows import COLUMNS, Rows


SECONDARY = """
SELECT c.relname, i.relname, co.conname, pg_get_indexdef(i.oid), pg_get_constraintdef(co.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_constraint co ON co.conindid = i.oid AND co.conrelid = c.oid AND co.contype IN ('u', 'x')
WHERE n.nspname = current_schema() AND c.relname = ANY($1::text[]) AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.oid)
ORDER BY c.relname, i.relname
"""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Loader:
    def __init__(self, conn: asyncpg.Connection, started: float) -> None:
        self.conn, self.started = conn, started
        self.rows: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.restore: list[tuple[str, str, str]] = []  # (table, index, DDL)

    async def prepare(self, ddl_file: Path) -> None:
        try:
            await self.conn.execute("SET session_replication_role = replica")
        except asyncpg.InsufficientPrivilegeError:
            print("note: not a superuser: foreign keys are checked row by row (slower)", flush=True)
        await self.conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'")
        for table, index, constraint, index_ddl, constraint_ddl in await self.conn.fetch(SECONDARY, list(COLUMNS)):
            ddl = (f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(constraint)} {constraint_ddl}" if constraint
                   else index_ddl)
            self.restore.append((table, index, ddl))
        ddl_file.write_text("".join(f"{ddl};\n" for _t, _i, ddl in self.restore))
        for table, index, ddl in self.restore:
            drop = (f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(index)}" if ddl.startswith("ALTER")
                    else f"DROP INDEX {quote(index)}")
            await self.conn.execute(drop)
        print(f"set aside {len(self.restore)} secondary indexes (definitions in {ddl_file})", flush=True)

    async def write(self, rows: Rows) -> int:
        written = 0
        for table in COLUMNS:
            lines = rows.lines.get(table)
            if not lines:
                continue
            started = time.perf_counter()
            await self.conn.copy_to_table(table, source=_chunks(lines), columns=list(COLUMNS[table]), format="text")
            self.seconds[table] += time.perf_counter() - started
            self.rows[table] += len(lines)
            written += len(lines)
        return written

    async def rebuild(self) -> None:
        by_table: dict[str, list[str]] = defaultdict(list)
        for table, _index, ddl in self.restore:
            by_table[table].append(ddl)
        for table, ddls in by_table.items():
            started = time.perf_counter()
            for ddl in ddls:
                await self.conn.execute(ddl)
            print(f"  indexes {table:<20} {len(ddls):>2} in {time.perf_counter() - started:7.1f} s  "
                  f"elapsed {self.elapsed():7.1f} s", flush=True)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def report(self) -> str:
        lines = [f"  {'table':<20} {'rows':>12} {'copy s':>8} {'rows/s':>10}"]
        for table in COLUMNS:
            if self.rows.get(table):
                s = self.seconds[table]
                lines.append(f"  {table:<20} {self.rows[table]:>12,} {s:>8.1f} {self.rows[table] / max(s, 1e-6):>10,.0f}")
        total, seconds = sum(self.rows.values()), sum(self.seconds.values())
        lines.append(f"  {'total':<20} {total:>12,} {seconds:>8.1f} {total / max(seconds, 1e-6):>10,.0f}")
        return "\n".join(lines)


async def _chunks(lines: list[str]) -> AsyncIterator[bytes]:
    step = 4096
    for i in range(0, len(lines), step):
        yield ("\n".join(lines[i:i + step]) + "\n").encode()
