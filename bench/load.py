"""The desk's real mix against a running server, with the framework's and the database's floors.

Virtual users per role (desk, cashier, tech, finance, supervisor) spread round-robin over the
estates, each signed in as a user of that role, run closed loops for `--duration` seconds (or
`--iterations` each): caller lookup, register a repair, suggest a technician and dispatch it
(desk); accept, start and post the voucher of an order dispatched in this run (tech); ring the
owner back (desk); explain a bill and take a payment (cashier); the month-end fee report
(finance); the attention queue (every role) and the wall board (supervisor). Alongside, a probe
times `GET /healthz` (the framework's floor) and one indexed `SELECT` through asyncpg on the same
database (the database's floor), before the mix (idle) and during it; each operation's p50 is
printed as a ratio to both floors under load.

    .venv/bin/python bench/load.py --url http://127.0.0.1:8770 --estates QS,XR --duration 60 \
        --vus desk=2,cashier=1,tech=2,finance=1,supervisor=1 --data-dir /tmp/load-demo

Exit status 1 on any error: a 5xx, an unexpected 4xx (429 included), or a network failure.
See bench/load.md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

import asyncpg

import load_ops as ops  # bench/ is on sys.path when run as a script
from common import embedded_dsn

# Usernames per role; {e} is the estate code in lower case. A role's VUs of one estate take them in turn;
# the finance VUs rotate their reports over all of the role's users, because expensive reports are
# rate limited per user (PROPDESK_REPORT_RATE_PER_MINUTE, 30 by default).
PROFILES = {
    "demo": {"setup": ["admin"], "desk": ["{e}.reception"], "cashier": ["{e}.reception"],
             "tech": ["{e}.tech1", "{e}.tech2", "{e}.tech3"],
             "finance": ["{e}.finance", "{e}.director", "{e}.supervisor"],
             "supervisor": ["{e}.supervisor"]},
    "bench": {"setup": ["bench.admin"], "desk": ["{e}.reception1", "{e}.reception2"], "cashier": ["{e}.reception3"],
              "tech": [f"{{e}}.tech{i}" for i in range(1, 11)], "finance": ["{e}.finance", "{e}.director", "{e}.supervisor"],
              "supervisor": ["{e}.supervisor"]},
}
DEFAULT_PASSWORD = {"demo": "propdesk-demo", "bench": "propdesk-bench"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8770", help="the API's base URL (without /api/v1)")
    p.add_argument("--estates", default="QS,XR", help="estate codes, comma-separated")
    p.add_argument("--profile", choices=sorted(PROFILES), default="demo", help="the usernames of each role")
    p.add_argument("--login", action="append", default=[], metavar="ROLE=U1,U2",
                   help="override a role's usernames ({e} = estate code, lower case); repeatable")
    p.add_argument("--password", help="every user's password (default: the profile's)")
    p.add_argument("--vus", default="desk=2,cashier=1,tech=2,finance=1,supervisor=1",
                   help="virtual users per role in all, spread round-robin over the estates")
    p.add_argument("--duration", type=float, default=60, help="seconds of load")
    p.add_argument("--iterations", type=int, help="stop each VU after this many iterations (still bounded by --duration)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--first-day", type=int, default=1, help="dispatch windows start this many days ahead")
    p.add_argument("--floor-samples", type=int, default=200, help="idle floor samples of each kind before the mix")
    p.add_argument("--dsn", help="PostgreSQL DSN for the database floor (default: the embedded server in --data-dir)")
    p.add_argument("--data-dir", default=os.environ.get("PROPDESK_DATA_DIR"), help="the server's PROPDESK_DATA_DIR")
    p.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    return p.parse_args(argv)


def role_logins(args: argparse.Namespace) -> dict[str, list[str]]:
    logins = dict(PROFILES[args.profile])
    for item in args.login:
        role, _, names = item.partition("=")
        logins[role] = names.split(",")
    return logins


def vu_counts(spec: str) -> dict[str, int]:
    counts = {role: int(n) for role, _, n in (item.partition("=") for item in spec.split(",") if item)}
    unknown = set(counts) - set(ops.ROLES)
    if unknown:
        raise SystemExit(f"unknown roles {sorted(unknown)}; roles: {sorted(ops.ROLES)}")
    return counts


# --- floors --------------------------------------------------------------------------------


class Floors:
    """GET /healthz through the same server, and one primary-key SELECT through asyncpg."""

    def __init__(self, url: str, conn: asyncpg.Connection, unit_ids: list[str], rng: random.Random) -> None:
        self.client = ops.client_for(url)
        self.conn, self.unit_ids, self.rng = conn, unit_ids, rng

    async def once(self, rec: ops.Recorder, suffix: str) -> None:
        await rec.call(self.client, f"floor: GET /healthz{suffix}", "GET", "/healthz")
        started = time.perf_counter()
        row = await self.conn.fetchrow("SELECT * FROM unit WHERE id = $1", self.rng.choice(self.unit_ids))
        if rec.recording:
            rec.latencies[f"floor: asyncpg select{suffix}"].append(time.perf_counter() - started)
        if row is None:
            rec.errors[f"floor: asyncpg select{suffix}"]["no row"] += 1

    async def idle(self, rec: ops.Recorder, n: int) -> None:
        for _ in range(n):
            await self.once(rec, " (idle)")

    async def probe(self, rec: ops.Recorder, deadline: float) -> None:
        while time.monotonic() < deadline:
            await self.once(rec, "")
            await asyncio.sleep(0.05)


# --- the run -------------------------------------------------------------------------------


async def build_vus(args: argparse.Namespace, logins: ops.Logins, estates: list[ops.Estate], rec: ops.Recorder) -> list[ops.VU]:
    names = role_logins(args)
    vus, per = [], {}
    for role, n in vu_counts(args.vus).items():
        for k in range(n):
            estate = estates[k % len(estates)]
            i = per[(role, estate.code)] = per.get((role, estate.code), -1) + 1
            template = names[role][i % len(names[role])]
            async with ops.client_for(args.url) as c:
                login = await logins.get(c, template.format(e=estate.code.lower()))
            if role == "tech" and login.user_id not in estate.orders:
                estate.tech_ids.append(login.user_id)
                estate.orders[login.user_id] = asyncio.Queue()
            rng = random.Random(f"{args.seed}:{role}:{k}")
            vu = ops.VU(role, estate, login, ops.client_for(args.url, login), rec, rng, args.first_day)
            if role == "finance":
                vu.report_clients = [ops.client_for(args.url, await _login(args, logins, t, estate)) for t in names[role]]
            vus.append(vu)
    return vus


async def _login(args: argparse.Namespace, logins: ops.Logins, template: str, estate: ops.Estate) -> ops.Login:
    async with ops.client_for(args.url) as c:
        return await logins.get(c, template.format(e=estate.code.lower()))


async def run_vu(vu: ops.VU, deadline: float, iterations: int | None) -> None:
    step = ops.ROLES[vu.role]
    done = 0
    while time.monotonic() < deadline and (iterations is None or done < iterations):
        await step(vu)
        done += 1


async def main(args: argparse.Namespace) -> int:
    codes = [c.strip().upper() for c in args.estates.split(",") if c.strip()]
    logins = ops.Logins(args.url, args.password or DEFAULT_PASSWORD[args.profile])
    rng = random.Random(args.seed)
    async with ops.client_for(args.url) as c:
        setup = await logins.get(c, role_logins(args)["setup"][0])
    async with ops.client_for(args.url, setup) as c:
        found = await ops.estate_ids(c, codes)
        estates = [await ops.load_estate(c, found[code], rng) for code in codes]
    rec = ops.Recorder()
    vus = await build_vus(args, logins, estates, rec)
    conn = await asyncpg.connect(args.dsn or embedded_dsn(args.data_dir))
    floors = Floors(args.url, conn, [cl.unit_id for e in estates for cl in e.callers], rng)
    load_before = os.getloadavg()
    await floors.idle(rec, args.floor_samples)
    started = time.monotonic()
    deadline = started + args.duration
    await asyncio.gather(floors.probe(rec, deadline), *(run_vu(vu, deadline, args.iterations) for vu in vus))
    seconds = time.monotonic() - started
    load_after = os.getloadavg()
    await conn.close()
    for vu in vus:
        for c in [vu.client, *vu.report_clients]:
            await c.aclose()
    await floors.client.aclose()
    result = summarise(rec, seconds)
    header = {"url": args.url, "estates": codes, "vus": vu_counts(args.vus), "seconds": round(seconds, 1),
              "seed": args.seed, "loadavg_before": load_before, "loadavg_after": load_after}
    print_markdown(header, result, rec)
    if args.json:
        args.json.write_text(json.dumps({"run": header, "operations": result}, ensure_ascii=False, indent=2))
    return 1 if any(r["errors"] for r in result) else 0


def summarise(rec: ops.Recorder, seconds: float) -> list[dict]:
    http_floor = ops.quantile(sorted(rec.latencies.get("floor: GET /healthz", [])), 0.5)
    db_floor = ops.quantile(sorted(rec.latencies.get("floor: asyncpg select", [])), 0.5)
    rows = []
    for op in sorted(set(rec.latencies) | set(rec.errors), key=lambda o: (o.startswith("floor"), o)):
        lat = sorted(rec.latencies.get(op, []))
        p50 = ops.quantile(lat, 0.5)
        rows.append({
            "operation": op, "count": len(lat), "ops_per_s": round(len(lat) / seconds, 2) if "idle" not in op else None,
            "p50_ms": round(p50, 1), "p95_ms": round(ops.quantile(lat, 0.95), 1), "p99_ms": round(ops.quantile(lat, 0.99), 1),
            "max_ms": round(lat[-1] * 1000, 1) if lat else None,
            "errors": dict(rec.errors.get(op, {})),
            "x_healthz": round(p50 / http_floor, 1) if http_floor == http_floor and http_floor else None,
            "x_db": round(p50 / db_floor, 1) if db_floor == db_floor and db_floor else None,
        })
    return rows


def print_markdown(header: dict, rows: list[dict], rec: ops.Recorder) -> None:
    la, lb = header["loadavg_before"], header["loadavg_after"]
    print(f"estates {','.join(header['estates'])}  VUs {header['vus']}  {header['seconds']} s  seed {header['seed']}  "
          f"load average before {la[0]:.2f} {la[1]:.2f}, after {lb[0]:.2f} {lb[1]:.2f}\n")
    print("| operation | count | ops/s | p50 ms | p95 ms | p99 ms | max ms | errors | p50 × healthz | p50 × db select |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        errors = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "0"
        rate = "" if r["ops_per_s"] is None else f"{r['ops_per_s']:.2f}"
        print(f"| {r['operation']} | {r['count']} | {rate} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
              f"| {r['max_ms']} | {errors} | {r['x_healthz']} | {r['x_db']} |")
    if rec.samples:
        print("\nFirst error body of each kind:")
        for key, body in rec.samples.items():
            print(f"- {key}: {body}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
