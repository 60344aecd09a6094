"""Payments at the desk under load: throughput, latency, and gapless receipt numbers.

Signs in (the demo receptionist by default), finds units of the estate with open charges,
posts `--count` payments with `--concurrency` in flight (each with its own Idempotency-Key,
oldest-first, a mix of cash and wallet payments), and prints payments/s, p50/p95/p99 latency
and the errors. Then it reads the receipts issued during the run back from the API and checks
that their numbers continue the estate's sequence with no gap and no duplicate.

    .venv/bin/python bench/payments.py --url http://127.0.0.1:8765 --concurrency 8 --count 400

Exit status 1 when a payment failed or the numbers are not consecutive. See bench/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import httpx
from common import login  # bench/ is on sys.path when run as a script

API = "/api/v1"
PAGE = 200


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8765", help="the API's base URL (without /api/v1)")
    p.add_argument("--username", default="qs.reception", help="a user who takes payments (demo: <estate>.reception)")
    p.add_argument("--password", default="propdesk-demo", help="the demo password by default")
    p.add_argument("--estate", default="QS", help="the estate's code")
    p.add_argument("--concurrency", type=int, default=8, help="payments in flight at once")
    p.add_argument("--count", type=int, default=200, help="payments to post")
    p.add_argument("--seed", type=int, default=1, help="seed of the amounts and methods")
    return p.parse_args(argv)


async def pages(client: httpx.AsyncClient, path: str, params: dict, *, most: int = 10_000):  # noqa: ANN201
    offset = 0
    while offset < most:
        r = await client.get(path, params={**params, "limit": PAGE, "offset": offset})
        r.raise_for_status()
        body = r.json()
        for item in body["items"]:
            yield item
        offset += PAGE
        if offset >= body["total"]:
            return


async def find_estate(client: httpx.AsyncClient, code: str) -> str:
    async for estate in pages(client, f"{API}/estates", {}):
        if estate["code"].upper() == code.upper():
            return estate["id"]
    raise SystemExit(f"no estate with code {code!r} visible to this user")


async def open_units(client: httpx.AsyncClient, estate_id: str, want: int) -> dict[str, Decimal]:
    """Units with something outstanding, and how much: the desk's queue of owners."""
    owed: dict[str, Decimal] = {}
    async for charge in pages(client, f"{API}/estates/{estate_id}/charges", {"status": "open"}, most=20 * PAGE):
        owed[charge["unit_id"]] = owed.get(charge["unit_id"], Decimal(0)) + Decimal(charge["outstanding"])
        if len(owed) >= want:
            break
    if not owed:
        raise SystemExit("no unit of the estate has open charges; load the demo first")
    return owed


async def last_receipt(client: httpx.AsyncClient, estate_id: str) -> tuple[int, int] | None:
    r = await client.get(f"{API}/estates/{estate_id}/receipts",
                         params={"series": "receipt", "limit": 1, "sort": "-issued_at"})
    r.raise_for_status()
    items = r.json()["items"]
    return (items[0]["year"], items[0]["seq"]) if items else None


def plan(owed: dict[str, Decimal], count: int, rng: random.Random) -> list[tuple[str, dict]]:
    """Round-robin over the units, each payment part of what the unit owes (oldest charges first)."""
    left = dict(owed)
    units = sorted(left)
    out = []
    for i in range(count):
        unit = units[i % len(units)]
        amount = Decimal(rng.randint(2000, 30000)) / 100
        if left[unit] >= Decimal("1.00"):
            amount = min(amount, left[unit])  # otherwise the rest is kept on account as credit
        left[unit] -= amount
        method = rng.choices(["cash", "wechat", "alipay", "bank_card"], weights=[55, 25, 12, 8])[0]
        body = {"settle": "oldest_first", "amount": str(amount), "method": method, "payer_name": "压测"}
        if method == "cash":
            body["tendered"] = str((amount / 100).to_integral_value(rounding=ROUND_CEILING) * 100)
        else:
            body["reference"] = f"BENCH{uuid.uuid4().hex[:20].upper()}"
        out.append((unit, body))
    return out


async def post_all(client: httpx.AsyncClient, work: list[tuple[str, dict]], concurrency: int) -> Outcome:
    outcome = Outcome()
    queue = iter(work)

    async def worker() -> None:
        for unit, body in queue:  # one shared iterator: each payment is taken by one worker
            started = time.perf_counter()
            try:
                r = await client.post(f"{API}/units/{unit}/payments", json=body,
                                      headers={"Idempotency-Key": str(uuid.uuid4())})
            except httpx.HTTPError as exc:
                outcome.errors[type(exc).__name__] += 1
                continue
            outcome.latencies.append(time.perf_counter() - started)
            if r.status_code == 201:
                outcome.numbers.append(r.json()["receipt"]["number"])
            else:
                outcome.errors[f"{r.status_code} {r.json().get('title', '') if r.content else ''}".strip()] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcome


async def issued_since(client: httpx.AsyncClient, estate_id: str, since: datetime, before: tuple[int, int] | None) -> list[dict]:
    """The receipts numbered after `before`, the last one issued before the run. The time window
    only narrows the read: a run started within its second of slack of the previous run's last
    payment counted that run's receipts as its own."""
    params = {"series": "receipt", "from": since.isoformat(), "sort": "number"}
    issued = [r async for r in pages(client, f"{API}/estates/{estate_id}/receipts", params, most=1_000_000)]
    return [r for r in issued if before is None or (r["year"], r["seq"]) > before]


def verify(before: tuple[int, int] | None, mine: list[str], issued: list[dict]) -> list[str]:
    """Problems with the numbers: the run's receipts must be exactly last+1 .. last+n."""
    problems = []
    numbers = [r["number"] for r in issued]
    if len(set(numbers)) != len(numbers) or len(set(mine)) != len(mine):
        problems.append("a receipt number was issued twice")
    if sorted(mine) != sorted(numbers):
        problems.append(f"the API lists {len(numbers)} receipts issued during the run, the payments got {len(mine)}")
    seqs = sorted(r["seq"] for r in issued)
    start = before[1] + 1 if before and issued and before[0] == issued[0]["year"] else 1
    if seqs and seqs != list(range(start, start + len(seqs))):
        gaps = sorted(set(range(start, seqs[-1] + 1)) - set(seqs))
        problems.append(f"numbers not consecutive from {start}: missing {gaps[:10]}")
    return problems


def report(args: argparse.Namespace, outcome: Outcome, seconds: float) -> None:
    ok = len(outcome.numbers)
    lat = sorted(outcome.latencies) or [0.0]

    def ms(q: float) -> float:  # nearest rank
        return lat[max(0, math.ceil(q * len(lat)) - 1)] * 1000

    print(f"estate {args.estate}  concurrency {args.concurrency}  payments {args.count}  in {seconds:.2f} s")
    print(f"  throughput   {ok / seconds:8.1f} payments/s")
    print(f"  latency ms   p50 {ms(0.50):7.1f}   p95 {ms(0.95):7.1f}   p99 {ms(0.99):7.1f}   max {lat[-1] * 1000:7.1f}")
    print(f"  errors       {sum(outcome.errors.values())}" + (f"  {dict(outcome.errors)}" if outcome.errors else ""))


async def main(args: argparse.Namespace) -> int:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=args.url, timeout=120, limits=limits) as client:
        await login(client, args.username, args.password)
        estate_id = await find_estate(client, args.estate)
        work = plan(await open_units(client, estate_id, args.count), args.count, random.Random(args.seed))
        before = await last_receipt(client, estate_id)
        since = datetime.now(UTC) - timedelta(seconds=1)
        started = time.perf_counter()
        outcome = await post_all(client, work, args.concurrency)
        seconds = time.perf_counter() - started
        report(args, outcome, seconds)
        problems = verify(before, outcome.numbers, await issued_since(client, estate_id, since, before))
    print("  numbers      " + ("consecutive, no gap, no duplicate" if not problems else "; ".join(problems)))
    return 1 if problems or outcome.errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
