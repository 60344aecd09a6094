"""The attention queue under load: p50/p95/p99 and requests/s of `GET /api/v1/attention`.

Signs in, warms up, then GETs the signed-in user's queue `--requests` times with
`--concurrency` in flight, and does the same for the estate's wall board
(`GET /api/v1/estates/{id}/attention`) and, as the framework's floor, `GET /healthz`.
Every loop is bounded by its count and by `--max-seconds`.

    .venv/bin/python bench/attention.py --url http://127.0.0.1:8766 --username bn.reception1 \
        --password propdesk-bench --requests 300 --concurrency 4

Exit status 1 when any request failed. The data: bench/attention_data.py; see bench/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from common import login  # bench/ is on sys.path when run as a script

API = "/api/v1"


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8766", help="the API's base URL (without /api/v1)")
    p.add_argument("--username", default="bn.reception1", help="whose queue (bench/attention_data.py's logins)")
    p.add_argument("--password", default="propdesk-bench")
    p.add_argument("--estate", default="BN", help="the wall board's estate code")
    p.add_argument("--requests", type=int, default=300, help="measured requests per endpoint")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight at once")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured requests first, per endpoint")
    p.add_argument("--max-seconds", type=float, default=300.0, help="stop an endpoint's loop after this long")
    p.add_argument("--only", choices=["attention", "board", "healthz"], action="append",
                   help="measure only these endpoints (repeatable); all three by default")
    return p.parse_args(argv)


async def find_estate(client: httpx.AsyncClient, code: str) -> str:
    r = await client.get(f"{API}/estates", params={"limit": 200})
    r.raise_for_status()
    for estate in r.json()["items"]:
        if estate["code"].upper() == code.upper():
            return estate["id"]
    raise SystemExit(f"no estate with code {code!r} visible to this user")


async def hammer(client: httpx.AsyncClient, path: str, count: int, concurrency: int, max_seconds: float) -> Outcome:
    """GET `path` `count` times with `concurrency` workers; stops early after `max_seconds`."""
    out = Outcome()
    left = iter(range(count))
    deadline = time.perf_counter() + max_seconds

    async def worker() -> None:
        for _ in left:
            if time.perf_counter() > deadline:
                out.errors["stopped: --max-seconds"] += 1
                return
            started = time.perf_counter()
            try:
                r = await client.get(path)
            except httpx.HTTPError as exc:
                out.errors[type(exc).__name__] += 1
                continue
            if r.status_code != 200:
                out.errors[f"HTTP {r.status_code}"] += 1
                continue
            out.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    out.seconds = time.perf_counter() - started
    return out


def row(name: str, out: Outcome, concurrency: int) -> str:
    lat = sorted(out.latencies) or [0.0]

    def ms(q: float) -> float:  # nearest rank
        return lat[min(len(lat) - 1, max(0, round(q * len(lat)) - 1))] * 1000

    rate = len(out.latencies) / out.seconds if out.seconds else 0.0
    errors = ", ".join(f"{k} x{v}" for k, v in out.errors.items()) or "0"
    return (f"{name:<12} {len(out.latencies):>6} {concurrency:>4} {rate:>8.1f} {ms(0.50):>8.1f} {ms(0.95):>8.1f} "
            f"{ms(0.99):>8.1f} {lat[-1] * 1000:>8.1f}  {errors}")


async def describe(client: httpx.AsyncClient, board: str | None) -> None:
    """What the user's queue holds, so a figure can be read against the work it did."""
    body = (await client.get(f"{API}/attention")).json()
    print(f"queue: {len(body['items'])} items, {body['overdue']} overdue, counts {body['counts']}")
    if board:
        body = (await client.get(board)).json()
        print(f"wall board: counts {body['counts']}, overdue {body['overdue']}")


async def main(args: argparse.Namespace) -> int:
    wanted = args.only or ["attention", "board", "healthz"]
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=args.url, timeout=60.0, limits=limits) as client:
        await login(client, args.username, args.password)
        board = f"{API}/estates/{await find_estate(client, args.estate)}/attention" if "board" in wanted else None
        await describe(client, board)
        paths = {"attention": f"{API}/attention", "board": board, "healthz": "/healthz"}
        print(f"{args.username} against {args.url}: {args.requests} requests per endpoint after {args.warmup} warm-up")
        print(f"{'endpoint':<12} {'ok':>6} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'max ms':>8}  errors")
        failed = False
        for name in wanted:
            await hammer(client, paths[name], args.warmup, args.concurrency, args.max_seconds)
            out = await hammer(client, paths[name], args.requests, args.concurrency, args.max_seconds)
            print(row(name, out, args.concurrency), flush=True)
            failed = failed or bool(out.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
