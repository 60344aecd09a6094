"""Which read endpoints make PostgreSQL scan a whole company-wide table: `python bench/plans.py`.

On a large company (bench/bigdata) every estate-level GET, and the unit-level reads the desk
uses, run once in-process against the given database. Each SELECT they sent is EXPLAINed (no
ANALYZE: nothing runs twice) and every sequential scan of a table holding more than --min-rows
rows is reported with the endpoint and the statement. An estate's page should never read the
company: such a scan grows with the number of estates, not with the estate. Exit 1 if any.

    PROPDESK_DATA_DIR=/tmp/bd05 .venv/bin/python bench/plans.py --estate E001 [--min-rows 20000]

It joins the embedded server of PROPDESK_DATA_DIR (started by `propdesk serve` or by this
script's own settings when none runs) or takes --database-url. The database must be migrated.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from bench.common import API, embedded_dsn, login  # noqa: E402

SKIP = ("/stream",)  # long polls


@dataclass
class Finding:
    endpoint: str
    table: str
    rows: float
    statement: str


@dataclass
class Capture:
    current: str = ""
    statements: list[tuple[str, str, Any]] = field(default_factory=list)

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001, ARG002
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append((self.current, statement, parameters))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--estate", default="E001")
    p.add_argument("--username", default="bench.admin")
    p.add_argument("--password", default="propdesk-bench")
    p.add_argument("--min-rows", type=int, default=20_000, help="tables larger than this count as company-wide")
    p.add_argument("--database-url", help="postgresql://...; default: PROPDESK_DATA_DIR's running embedded server")
    return p.parse_args(argv)


def seq_scans(plan: dict[str, Any]) -> list[tuple[str, float]]:
    found = []
    if plan.get("Node Type") == "Seq Scan":
        found.append((plan["Relation Name"], plan.get("Plan Rows", 0)))
    for child in plan.get("Plans", []):
        found += seq_scans(child)
    return found


async def endpoints(client: httpx.AsyncClient, conn: asyncpg.Connection, estate_id: str) -> list[str]:
    """Every GET under /estates/{estate_id} without required query parameters, and the unit's reads."""
    spec = (await client.get("/openapi.json")).json()
    urls = []
    for path, ops in spec["paths"].items():
        get = ops.get("get")
        if get is None or re.findall(r"{(\w+)}", path) != ["estate_id"] or any(s in path for s in SKIP):
            continue
        if any(p.get("required") and p["in"] == "query" for p in get.get("parameters", [])):
            continue
        urls.append(path.replace("{estate_id}", estate_id))
    unit = await conn.fetchval("SELECT c.unit_id FROM charge c WHERE c.estate_id = $1 AND c.amount_paid < c.amount LIMIT 1",
                               estate_id)
    phone = await conn.fetchval("SELECT phone FROM owner_phone WHERE estate_id = $1 LIMIT 1", estate_id)
    urls += [f"{API}/units/{unit}", f"{API}/units/{unit}/bill", f"{API}/units/{unit}/arrears", f"{API}/units/{unit}/credit",
             f"{API}/estates/{estate_id}/callers?phone={phone}"]
    return urls


async def explain(conn: asyncpg.Connection, capture: Capture, min_rows: int) -> list[Finding]:
    sizes = {r["relname"]: r["reltuples"] for r in await conn.fetch(
        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")}
    findings = []
    for endpoint, statement, params in capture.statements:
        [row] = await conn.fetch("EXPLAIN (FORMAT JSON) " + statement, *(params or ()))
        for table, rows in seq_scans(json.loads(row[0])[0]["Plan"]):
            if sizes.get(table, 0) > min_rows:
                findings.append(Finding(endpoint, table, sizes[table], " ".join(statement.split())[:160]))
    return findings


async def run(args: argparse.Namespace) -> int:
    dsn = args.database_url or embedded_dsn(os.environ.get("PROPDESK_DATA_DIR", "data"))
    settings = Settings(database_url=dsn.replace("postgresql://", "postgresql+asyncpg://", 1), scheduler_enabled=False,
                        report_rate_per_minute=1_000_000, log_json=False)
    app = create_app(settings)
    conn = await asyncpg.connect(dsn)
    capture = Capture()
    try:
        async with app.router.lifespan_context(app):
            event.listen(app.state.engine.sync_engine, "before_cursor_execute", capture)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120) as client:
                await login(client, args.username, args.password)
                estate_id = str(await conn.fetchval("SELECT id FROM estate WHERE code = $1", args.estate))
                urls = await endpoints(client, conn, estate_id)
                bad = []
                for url in urls:
                    capture.current = url.replace(estate_id, "{estate}")
                    r = await client.get(url)
                    if r.status_code >= 500:
                        bad.append(f"{capture.current}: {r.status_code}")
        findings = await explain(conn, capture, args.min_rows)
    finally:
        await conn.close()
    print(f"{len(urls)} endpoints, {len(capture.statements)} SELECTs explained; tables over {args.min_rows:,} rows scanned whole:")
    for f in findings:
        print(f"  {f.endpoint}\n      Seq Scan on {f.table} ({f.rows:,.0f} rows): {f.statement}")
    print("  none" if not findings else f"{len(findings)} found", *bad, sep="\n")
    return 1 if findings or bad else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args())))
