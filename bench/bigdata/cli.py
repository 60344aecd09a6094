"""Build the synthetic company into a PropDesk database with COPY.

    PROPDESK_DATA_DIR=/tmp/bigdata .venv/bin/python -m bench.bigdata [--scale 1.0] [--database-url URL]

Without --database-url it migrates the embedded server of PROPDESK_DATA_DIR (as bench/load_demo.py
does) and writes <data dir>/READY when done. Every estate is built in Python from its own seeded
generator (the same --seed and --now give the same rows) in a worker thread while the previous
estate's rows stream into the database.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

from bench.bigdata import desk, fees, receipts, registry, repairs
from bench.bigdata.loader import Loader
from bench.bigdata.plan import PASSWORD, STAFF, TIME_ZONE, Estate, Sizes
from bench.bigdata.rows import Ids, Rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.bigdata", description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="1.0: 200 estates, 200,000 units; 0.001: 1 estate of 200")
    p.add_argument("--database-url", default="", help="load into this (migrated, empty) database instead")
    p.add_argument("--seed", type=int, default=7, help="the same seed and --now give the same rows")
    p.add_argument("--now", default="", help="estate-local 'YYYY-MM-DDTHH:MM' the history ends at (default: now)")
    p.add_argument("--password", default=PASSWORD, help="the password of every login it makes")
    p.add_argument("--jobs", type=int, default=2, help="processes building estates (0: a thread of this one)")
    p.add_argument("--no-vacuum", action="store_true", help="ANALYZE only, skip VACUUM (faster, colder)")
    return p.parse_args(argv)


class Company:
    """What every estate's build shares: the clock, the seed, the one password hash."""

    def __init__(self, args: argparse.Namespace, password_hash: str) -> None:
        local = datetime.fromisoformat(args.now) if args.now else datetime.now(ZoneInfo(TIME_ZONE)).replace(tzinfo=None)
        self.now, self.seed, self.sizes = local.replace(microsecond=0), args.seed, Sizes.at(args.scale)
        self.password_hash = password_hash
        ids = Ids(999_999)
        self.id, self.admin_id = ids(), ids()

    def head(self) -> Rows:
        rows = Rows()
        registry.company(rows, company_id=self.id, admin_id=self.admin_id, password_hash=self.password_hash, now=self.now)
        return rows

    def build(self, no: int) -> Rows:
        e = Estate(no=no, seed=self.seed, now=self.now, company_id=self.id)
        registry.estate(e, password_hash=self.password_hash, admin_id=self.admin_id, units=self.sizes.units)
        repairs.requests(e, self.sizes.requests)
        charges = fees.billing(e, fees.items(e))
        receipts.write(e, fees.payments(e, charges), charges)
        desk.complaints(e, self.sizes.complaints)
        desk.stock(e)
        return e.rows


async def load(url: str, args: argparse.Namespace, ddl_file: Path) -> dict:
    from app.domain.auth.secrets import hash_password

    started = time.perf_counter()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        if await conn.fetchval("SELECT count(*) FROM estate"):
            raise SystemExit("the database already has estates: load into an empty one (a fresh data directory)")
        company = Company(args, hash_password(args.password))  # argon2 once: hashing is the slow part
        sizes, loader = company.sizes, Loader(conn, started)
        print(f"scale {args.scale}: {sizes.estates} estates x {sizes.units} units, {sizes.requests} requests, "
              f"{sizes.complaints} complaints each; history ends {company.now:%Y-%m-%d %H:%M} ({TIME_ZONE})", flush=True)
        await loader.prepare(ddl_file)
        await loader.write(company.head())
        step = max(1, sizes.estates // 40)
        with _builders(args.jobs) as pool:
            ahead = max(1, args.jobs) + 1
            pending = [_build(pool, company, no) for no in range(min(ahead, sizes.estates))]
            for no in range(sizes.estates):
                rows = await pending.pop(0)
                if no + ahead < sizes.estates:
                    pending.append(_build(pool, company, no + ahead))
                await loader.write(rows)
                if (no + 1) % step == 0 or no + 1 == sizes.estates:
                    _progress(loader, no + 1, sizes.estates)
        copied = loader.elapsed()
        print(loader.report(), flush=True)
        print("rebuilding the indexes set aside:", flush=True)
        await loader.rebuild()
        analyse = "ANALYZE" if args.no_vacuum else "VACUUM (ANALYZE)"
        t = time.perf_counter()
        await conn.execute(analyse)
        print(f"{analyse} in {time.perf_counter() - t:.1f} s", flush=True)
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return {"scale": args.scale, "seed": args.seed, "now": company.now.isoformat(), "estates": sizes.estates,
                "rows": dict(loader.rows), "copy_seconds": round(copied, 1), "seconds": round(loader.elapsed(), 1),
                "database_size": size, "password": args.password,
                "logins": "e001.reception1..3, e001.tech1..10, e001.supervisor, e001.director, e001.finance, "
                          "e001.records, e001.manager1..4 (per estate E001..), bench.admin"}
    finally:
        await conn.close()


def _progress(loader: Loader, done: int, estates: int) -> None:
    total = sum(loader.rows.values())
    print(f"[{loader.elapsed():8.1f} s] estates {done:>4}/{estates}  rows {total:>12,}  "
          f"{total / loader.elapsed():>9,.0f} rows/s  (charge {loader.rows['charge']:,}, "
          f"payment {loader.rows['payment']:,}, work_order {loader.rows['work_order']:,})", flush=True)


@contextmanager
def _builders(jobs: int) -> Iterator[ProcessPoolExecutor | None]:
    """Estates are built in other processes (Python is the slow half of the load), or a thread."""
    if jobs <= 0:
        yield None
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _build(pool: ProcessPoolExecutor | None, company: Company, no: int) -> asyncio.Future:
    if pool is None:
        return asyncio.ensure_future(asyncio.to_thread(company.build, no))
    return asyncio.wrap_future(pool.submit(company.build, no))


async def _missing_tables(url: str) -> None:
    from app.domain.models import metadata

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)  # checkfirst: only what the migrations lack
    await engine.dispose()


async def _wal(url: str, setting: str) -> None:
    """A bigger WAL between checkpoints while loading (the embedded server only), reset after."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute(setting)
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.database_url:
        from app.db import async_url

        url, marker = async_url(args.database_url), None
        ddl_file = Path("/tmp") / f"bigdata-indexes-{time.strftime('%Y%m%d-%H%M%S')}.sql"
        summary = asyncio.run(load(url, args, ddl_file))
    else:
        from app.cli.common import _migrate, _prepare, _settings

        settings = _settings()
        url = asyncio.run(_prepare(settings))
        _migrate(url)
        asyncio.run(_missing_tables(url))
        marker, ddl_file = settings.data_dir / "READY", settings.data_dir / "bigdata-indexes.sql"
        asyncio.run(_wal(url, "ALTER SYSTEM SET max_wal_size = '16GB'"))
        try:
            summary = asyncio.run(load(url, args, ddl_file))
        finally:
            asyncio.run(_wal(url, "ALTER SYSTEM RESET max_wal_size"))
    print(f"database size {summary['database_size']}; total {summary['seconds']} s", flush=True)
    if marker is not None:
        marker.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"READY: {marker}", flush=True)
    else:
        print("READY", flush=True)
    print(f"logins (password {args.password!r}): {summary['logins']}; roles {[r for _s, r, _n in STAFF]}")

