"""The office's reports against one hand-written SQL statement each: p50/p99 and their ratio.

For one estate and period, each report is timed three ways, interleaved call by call so that
all three see the same machine load:

  (a) http    its endpoint over HTTP on a running server (`propdesk serve --no-scheduler`)
  (b) service its service function in this process (a fresh session per call, system actor)
  (c) sql     the hand-written statement of bench/reports_sql.py through asyncpg

and the figures of all three are compared (the report's totals and breakdowns against the
statement's). The floors are timed the same way: an indexed single-row select through asyncpg
(the database's), a session that looks the estate up (the service's), `GET /healthz` (the
framework's) and `GET /estates/{id}` (auth + one select: every report request's). Each ratio is
printed raw and net of its way's floor. The server must allow the calls: start it with
PROPDESK_REPORT_RATE_PER_MINUTE raised (the per-user cap on expensive reports is 30 a minute).

    PROPDESK_DATA_DIR=/tmp/bigdata-reports .venv/bin/python bench/reports.py \
        --url http://127.0.0.1:8792 --username bench.admin --password propdesk-bench \
        --estate E001 --month 2026-10 --repeat 20

The database is the one of PROPDESK_DATA_DIR's running embedded server (read from its
postmaster.pid; nothing is started or stopped), or --database-url. Exit status 1 when a
request failed or the figures disagree. Reads only. See bench/reports.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.domain.auth.principal import system_actor  # noqa: E402
from app.domain.callbacks import rates  # noqa: E402
from app.domain.callbacks.schemas import RatePeriod  # noqa: E402
from app.domain.fees.reports import month_report, saturday_register as register  # noqa: E402
from app.domain.registry import service as registry_service  # noqa: E402
from app.domain.repairs.paperwork import daily_log  # noqa: E402
from app.domain.stock import report as stock_report  # noqa: E402
from bench import reports_sql as hand  # noqa: E402
from bench.common import embedded_dsn, login  # noqa: E402

API = "/api/v1"
REPORTS = ("daily_log", "callback_rate", "register", "month_report", "stocktake")
ACTOR = system_actor("bench-reports")


@dataclass
class Report:
    name: str
    period: str
    path: str
    params: dict[str, str]
    service: Callable[[Any], Awaitable[Any]]  # session -> pydantic report
    sql: Callable[[Any], Awaitable[hand.Figures]]  # asyncpg connection -> figures
    figures: Callable[[dict[str, Any]], hand.Figures]  # report JSON -> figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    today = datetime.now(timezone.utc).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8792", help="the API's base URL (without /api/v1)")
    p.add_argument("--username", default="bench.admin")
    p.add_argument("--password", default="propdesk-bench")
    p.add_argument("--estate", default="E001", help="estate code")
    p.add_argument("--month", default=last_month, help="month of the month-end report, callback rate and stocktake")
    p.add_argument("--week", help="register week (2026-W43); default: the week of the month's 15th")
    p.add_argument("--day", help="daily log day (YYYY-MM-DD); default: the month's 15th")
    p.add_argument("--repeat", type=int, default=20, help="measured calls per report and way")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--only", choices=REPORTS, action="append", help="these reports only (repeatable)")
    p.add_argument("--show", action="store_true", help="print the figures the statement computed")
    p.add_argument("--no-http", action="store_true", help="skip (a): no server needed")
    p.add_argument("--database-url", help="postgresql://...; default: PROPDESK_DATA_DIR's running embedded server")
    return p.parse_args(argv)


def database_url(explicit: str | None) -> str:
    return explicit or embedded_dsn(os.environ.get("PROPDESK_DATA_DIR", "data"))


def build_reports(args: argparse.Namespace, estate: hand.EstateInfo) -> list[Report]:
    mid = date.fromisoformat(args.month + "-15")
    day = date.fromisoformat(args.day) if args.day else mid
    week = args.week or register.week_of(mid)
    month, eid = args.month, estate.id
    now = datetime.now(timezone.utc)
    base = f"{API}/estates/{eid}"

    async def register_service(s: Any) -> Any:
        return (await register.saturday_register(s, actor=ACTOR, estate_id=eid, week=week))[1]

    async def month_service(s: Any) -> Any:
        return (await month_report.month_fee_report(s, actor=ACTOR, estate_id=eid, month=month))[1]

    return [
        Report("daily_log", str(day), f"{base}/repairs/daily-log", {"date": str(day)},
               lambda s: daily_log.daily_log(s, actor=ACTOR, estate_id=eid, day=day),
               lambda c: hand.hand_daily_log(c, estate, day, now), hand.daily_log_figures),
        Report("callback_rate", month, f"{base}/callback-rate", {"period": "month", "date": f"{month}-01"},
               lambda s: rates.callback_rate(s, actor=ACTOR, estate_id=eid, period=RatePeriod.month,
                                             day=date.fromisoformat(month + "-01")),
               lambda c: hand.hand_callback_rate(c, estate, month, now), hand.callback_rate_figures),
        Report("register", week, f"{base}/fee-reports/saturday-register", {"week": week}, register_service,
               lambda c: hand.hand_register(c, estate, week), hand.register_figures),
        Report("month_report", month, f"{base}/fee-reports/month-end", {"month": month}, month_service,
               lambda c: hand.hand_month_report(c, estate, month), hand.month_report_figures),
        Report("stocktake", month, f"{base}/stocktake-report", {"month": month},
               lambda s: stock_report.month_report(s, actor=ACTOR, estate_id=eid, month=month),
               lambda c: hand.hand_stocktake(c, estate, month), hand.stocktake_figures),
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


class Bench:
    def __init__(self, args: argparse.Namespace, client: httpx.AsyncClient | None, sessionmaker: Any, conn: Any) -> None:
        self.args, self.client, self.sessionmaker, self.conn = args, client, sessionmaker, conn
        self.failed = False
        self.floor: dict[str, float] = {}

    async def http(self, r: Report) -> dict[str, Any]:
        assert self.client is not None
        resp = await self.client.get(r.path, params=r.params)
        if resp.status_code != 200:
            raise RuntimeError(f"{r.path}: HTTP {resp.status_code} {resp.text[:200]}")
        return resp.json()

    async def service(self, r: Report) -> Any:
        async with self.sessionmaker() as session:
            return await r.service(session)

    async def one(self, r: Report) -> None:
        ways: dict[str, Callable[[], Awaitable[Any]]] = {
            "service": lambda: self.service(r), "sql": lambda: r.sql(self.conn)}
        if self.client is not None:
            ways = {"http": lambda: self.http(r), **ways}
        times: dict[str, list[float]] = {w: [] for w in ways}
        last: dict[str, Any] = {}
        for i in range(self.args.warmup + self.args.repeat):
            for way, call in ways.items():
                seconds, last[way] = await timed(call)
                if i >= self.args.warmup:
                    times[way].append(seconds)
        self.show(r, times, last)

    def show(self, r: Report, times: dict[str, list[float]], last: dict[str, Any]) -> None:
        sql_fig = last["sql"]
        report_json = last["service"].model_dump(mode="json")
        problems = hand.differences(r.figures(report_json), sql_fig)
        if "http" in last:
            problems += [f"http: {p}" for p in hand.differences(r.figures(last["http"]), sql_fig)]
        size = len(report_json.get("rows") or report_json.get("lines") or [])
        sql50 = pct(times["sql"], 0.5)
        cells = []
        for way in ("http", "service", "sql"):
            if way in times:
                p50, p99 = pct(times[way], 0.5), pct(times[way], 0.99)
                # Net: less the floor every call of that way pays (auth, session, estate lookup).
                net = max(0.0, p50 - self.floor.get(way, 0.0))
                ratio = f" {p50 / sql50:5.1f}x net {net / sql50:5.1f}x" if way != "sql" and sql50 else ""
                cells.append(f"{way} {p50:7.1f} /{p99:7.1f}{ratio}")
        agree = "figures agree" if not problems else f"{len(problems)} DIFFERENCES"
        print(f"{r.name:<14}{r.period:<11}{size:>6}  " + "  ".join(cells) + f"  {agree}", flush=True)
        for line in problems[:20]:
            print(f"    {line}")
        if self.args.show:
            print("    " + ", ".join(f"{'/'.join(k).strip('/')}={v}" for k, v in sorted(sql_fig.items())))
        self.failed |= bool(problems)

    async def floors(self, estate: hand.EstateInfo) -> None:
        """What every call pays before any report work: the figures' floors, timed like the reports."""

        async def service_floor() -> Any:
            async with self.sessionmaker() as session:
                return await registry_service.check_estate(session, actor=ACTOR, estate_id=estate.id)

        ways: dict[str, Callable[[], Awaitable[Any]]] = {
            "db": lambda: self.conn.fetchval("SELECT id FROM estate WHERE id = $1", estate.id), "service": service_floor}
        if self.client is not None:
            ways["healthz"] = lambda: self.client.get("/healthz")
            ways["http"] = lambda: self.client.get(f"{API}/estates/{estate.id}")
        times: dict[str, list[float]] = {w: [] for w in ways}
        for i in range(self.args.warmup + self.args.repeat * 3):
            for way, call in ways.items():
                seconds, result = await timed(call)
                if isinstance(result, httpx.Response):
                    result.raise_for_status()
                if i >= self.args.warmup:
                    times[way].append(seconds)
        self.floor = {w: pct(t, 0.5) for w, t in times.items()}
        names = {"db": "asyncpg indexed select", "service": "service: session + estate lookup",
                 "healthz": "GET /healthz", "http": "GET /estates/{id} (auth + one select)"}
        print("floors (p50 / p99 ms): " + "; ".join(
            f"{names[w]} {pct(t, 0.5):.1f} / {pct(t, 0.99):.1f}" for w, t in times.items()), flush=True)


async def run(args: argparse.Namespace) -> int:
    url = database_url(args.database_url)
    conn = await asyncpg.connect(url, server_settings={"timezone": "UTC"})
    engine = make_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2)
    client = None if args.no_http else httpx.AsyncClient(base_url=args.url, timeout=120)
    try:
        if client is not None:
            await login(client, args.username, args.password)
        estate = await hand.estate_info(conn, args.estate)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"estate {estate.code} ({estate.id}), {args.repeat} calls per way after {args.warmup} warm-up; "
              f"load average {load}; times in ms, p50 / p99, then p50 / sql's p50, and net of the way's floor")
        bench = Bench(args, client, make_sessionmaker(engine), conn)
        await bench.floors(estate)
        print(f"{'report':<14}{'period':<11}{'lines':>6}")
        for r in build_reports(args, estate):
            if args.only and r.name not in args.only:
                continue
            try:
                await bench.one(r)
            except Exception as exc:  # noqa: BLE001 - one report's failure must not hide the others'
                print(f"{r.name:<14}{r.period:<11} FAILED: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
                bench.failed = True
        print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 1 if bench.failed else 0
    finally:
        if client is not None:
            await client.aclose()
        await engine.dispose()
        await conn.close()


def main() -> None:
    sys.exit(asyncio.run(run(parse_args())))


if __name__ == "__main__":
    main()
