"""Each desk read's throughput as a share of the database floor's, in one run, alternating.

    PROPDESK_REPORT_RATE_PER_MINUTE=100000 PROPDESK_DATA_DIR=/tmp/fl propdesk serve --demo --port 8793 --no-scheduler &
    .venv/bin/python bench/floors.py --url http://127.0.0.1:8793 --data-dir /tmp/fl [--seconds 5 --rounds 3]

The floor (bench/floor_app.py, started here with one uvicorn worker) is a FastAPI endpoint doing
one indexed asyncpg select on the same PostgreSQL: what one request can cost on this stack. For
each path, rounds alternate: `--seconds` of the floor, then as long of the path, each with
`--connections` clients in a closed loop (no think time); a path's share is its requests per
second over the floor's of the same round, the median over the rounds. `/healthz` is measured
like a path. Issue 20's goals are printed beside the shares.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
from common import API, embedded_dsn, login

HERE = Path(__file__).resolve().parent


@dataclass
class WorkingSet:
    estate_id: str
    month: str
    owners: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)


Request = tuple[str, dict[str, str]]
# name -> (goal as a share of the floor, or None; the request for one call)
PATHS: dict[str, tuple[float | None, Callable[[WorkingSet, random.Random], Request]]] = {
    "GET /healthz": (None, lambda w, r: ("/healthz", {})),
    "caller lookup": (0.40, lambda w, r: (f"{API}/estates/{w.estate_id}/callers", {"phone": r.choice(w.phones)})),
    "one owner by id": (0.50, lambda w, r: (f"{API}/owners/{r.choice(w.owners)}", {})),
    "attention queue (receptionist)": (0.25, lambda w, r: (f"{API}/attention", {})),
    "explain a bill": (0.25, lambda w, r: (f"{API}/units/{r.choice(w.units)}/bill", {})),
    "work-order list, first page": (0.25, lambda w, r: (f"{API}/estates/{w.estate_id}/work-orders", {})),
    "month-end fee report": (None, lambda w, r: (f"{API}/estates/{w.estate_id}/fee-reports/month-end", {"month": w.month})),
}


async def closed_loop(clients: list[httpx.AsyncClient], seconds: float, request: Callable[[random.Random], Request]) -> tuple[int, int]:
    """(answered 2xx, other) over `seconds`, each client sending its next request when the last is answered."""
    deadline = time.perf_counter() + seconds
    done, failed = [0], [0]

    async def one(client: httpx.AsyncClient, rng: random.Random) -> None:
        while time.perf_counter() < deadline:
            url, params = request(rng)
            r = await client.get(url, params=params)
            if r.is_success:
                done[0] += 1
            else:
                failed[0] += 1
    await asyncio.gather(*(one(c, random.Random(i)) for i, c in enumerate(clients)))
    return done[0], failed[0]


async def working_set(client: httpx.AsyncClient, code: str, month: str) -> WorkingSet:
    estates = (await client.get(f"{API}/estates")).json()
    items = estates["items"] if isinstance(estates, dict) else estates
    w = WorkingSet(estate_id=next(e["id"] for e in items if e["code"] == code), month=month)
    r = await client.get(f"{API}/estates/{w.estate_id}/owners", params={"limit": 200})
    r.raise_for_status()
    for o in r.json()["items"]:
        w.owners.append(o["id"])
        w.phones += [p["phone"] for p in o["phones"]]
        w.units += [u["unit_id"] for u in o["units"]]
    return w


def start_floor(dsn: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FLOOR_DSN": dsn}
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "floor_app:app", "--app-dir", str(HERE), "--port", str(port),
                             "--log-level", "warning", "--no-access-log"], env=env)


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(100):
            try:
                await c.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def main(args: argparse.Namespace) -> None:
    floor = start_floor(args.dsn or embedded_dsn(args.data_dir), args.floor_port)
    try:
        await wait_up(f"http://127.0.0.1:{args.floor_port}/docs")
        await run(args)
    finally:
        floor.terminate()
        floor.wait()


async def run(args: argparse.Namespace) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    desk = [httpx.AsyncClient(base_url=args.url, timeout=60, limits=limits) for _ in range(args.connections)]
    for c in desk:
        await login(c, f"{args.estate.lower()}.reception", args.password)
    w = await working_set(desk[0], args.estate, args.month)
    floor_base = f"http://127.0.0.1:{args.floor_port}"
    floors = [httpx.AsyncClient(base_url=floor_base, timeout=60, limits=limits) for _ in range(args.connections)]
    units = w.units

    def floor_request(rng: random.Random) -> Request:
        return f"/floor/units/{rng.choice(units)}", {}
    print(f"\n{args.connections} connections, {args.rounds} rounds of {args.seconds:g} s each side, estate {args.estate}, "
          f"load average before: {os.getloadavg()[0]:.2f}\n")
    print("| path | floor req/s | path req/s | share of the floor | goal | errors |\n|---|---|---|---|---|---|")
    for name, (goal, build) in PATHS.items():
        if args.only and name not in args.only:
            continue
        shares, floor_rps, path_rps, errors = [], [], [], 0
        for _ in range(args.rounds):
            f_ok, _ = await closed_loop(floors, args.seconds, floor_request)
            p_ok, p_bad = await closed_loop(desk, args.seconds, lambda rng, b=build: b(w, rng))
            floor_rps.append(f_ok / args.seconds)
            path_rps.append(p_ok / args.seconds)
            shares.append(p_ok / f_ok if f_ok else 0.0)
            errors += p_bad
        print(f"| {name} | {statistics.median(floor_rps):.0f} | {statistics.median(path_rps):.1f} | "
              f"{statistics.median(shares):.1%} | {f'≥ {goal:.0%}' if goal else '—'} | {errors} |")
    for c in desk + floors:
        await c.aclose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8793")
    p.add_argument("--data-dir", default=os.environ.get("PROPDESK_DATA_DIR", "./data"))
    p.add_argument("--dsn", help="PostgreSQL DSN for the floor (default: the embedded server in --data-dir)")
    p.add_argument("--estate", default="QS")
    p.add_argument("--password", default="propdesk-demo")
    p.add_argument("--month", default=f"{date.today().year}-{date.today().month - 1:02d}" if date.today().month > 1
                   else f"{date.today().year - 1}-12")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--floor-port", type=int, default=8799)
    p.add_argument("--only", nargs="*", help="measure only these paths (names as printed)")
    return p.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
