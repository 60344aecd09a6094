"""Other users' latency while a storm of failed sign-ins arrives at once, before and after a change.

For each code tree (`--before REF`, exported with `git archive`, and this checkout) the script
starts `propdesk serve --demo` of that tree on a data directory of its own, signs in as the demo
admin, and measures GET /api/v1/auth/me with that valid token from `--probes` clients in a loop:
first quietly for `--quiet` seconds, then while `--storm` sign-ins with wrong passwords are sent
at once (each on its own connection). The figure is the probes' p99 during the storm over their
p99 in the quiet, per tree, in one run on one machine. Sign-in limits are switched off in both
servers, so that every guess reaches argon2 (what an attacker spread over many addresses gets).

    .venv/bin/python bench/login_storm.py --before main --storm 100
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"
LIMITS_OFF = {
    "PROPDESK_LOGIN_RATE_PER_MINUTE": "0", "PROPDESK_LOGIN_IP_RATE_PER_MINUTE": "0",
    "PROPDESK_LOGIN_MAX_FAILURES": "1000000", "PROPDESK_LOGIN_IP_MAX_FAILURES": "1000000",
}


@dataclass
class Result:
    tree: str
    quiet: list[float] = field(default_factory=list)
    storm: list[float] = field(default_factory=list)
    probe_errors: Counter = field(default_factory=Counter)
    storm_statuses: Counter = field(default_factory=Counter)
    storm_seconds: float = 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", default="main", help="git ref of the code to compare with (default main)")
    p.add_argument("--storm", type=int, default=100, help="wrong sign-ins sent at once")
    p.add_argument("--probes", type=int, default=4, help="clients calling GET /auth/me in a loop")
    p.add_argument("--quiet", type=float, default=8.0, help="seconds of probing without a storm")
    p.add_argument("--only", choices=["before", "after"], help="run one tree only")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def export(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def start(tree: Path, data_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPDESK_") and k != "DATABASE_URL"}
    env.update(LIMITS_OFF, PYTHONPATH=str(tree), PROPDESK_DATA_DIR=str(data_dir), PROPDESK_LOG_JSON="false")
    log = (data_dir / "serve.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-scheduler", "--demo"],
                            cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)


async def wait_up(base: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            try:
                if (await http.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit(f"{base} did not come up in {timeout} s")


async def probe(base: str, token: str, until: asyncio.Event, out: list[float], errors: Counter) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        while not until.is_set():
            t = time.perf_counter()
            try:
                r = await http.get(f"{API}/auth/me")
                if r.status_code != 200:
                    errors[r.status_code] += 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
            out.append(time.perf_counter() - t)


async def probing(base: str, token: str, n: int, out: list[float], errors: Counter, during) -> None:  # noqa: ANN001
    stop = asyncio.Event()
    probes = [asyncio.create_task(probe(base, token, stop, out, errors)) for _ in range(n)]
    try:
        await during()
    finally:
        stop.set()
        await asyncio.gather(*probes)


async def storm(base: str, size: int, result: Result) -> None:
    limits = httpx.Limits(max_connections=size + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as http:
        async def guess(n: int) -> None:
            try:
                r = await http.post(f"{API}/auth/login", json={"username": "admin", "password": f"wrong-guess-{n}"})
                result.storm_statuses[r.status_code] += 1
            except httpx.HTTPError as exc:
                result.storm_statuses[type(exc).__name__] += 1

        t = time.perf_counter()
        await asyncio.gather(*[guess(n) for n in range(size)])
        result.storm_seconds = time.perf_counter() - t


async def measure(name: str, tree: Path, args: argparse.Namespace) -> Result:
    result = Result(tree=name)
    with tempfile.TemporaryDirectory(prefix="login-storm-") as data_dir:
        port = free_port()
        proc = start(tree, Path(data_dir), port)
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                await wait_up(base, proc)
            except SystemExit:
                print((Path(data_dir) / "serve.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                r = await http.post(f"{API}/auth/login", json={"username": "admin", "password": "propdesk-demo"})
                r.raise_for_status()
                token = r.json()["access_token"]
            await probing(base, token, args.probes, result.quiet, result.probe_errors, lambda: asyncio.sleep(args.quiet))
            await probing(base, token, args.probes, result.storm, result.probe_errors, lambda: storm(base, args.storm, result))
        finally:
            proc.send_signal(signal.SIGTERM)  # `serve` then stops its embedded PostgreSQL
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log = (Path(data_dir) / "serve.log").read_text(errors="replace")
        result.probe_errors["tracebacks in the log"] += log.count("Traceback")
    return result


def p(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(results: list[Result], args: argparse.Namespace) -> None:
    print(f"\n{args.storm} wrong sign-ins at once; {args.probes} clients on GET /auth/me (ms)\n")
    print("| code | quiet p50 | quiet p99 | storm p50 | storm p99 | p99 storm / quiet | storm answers | storm took | probe errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        q50, q99, s50, s99 = (p(r.quiet, 50), p(r.quiet, 99), p(r.storm, 50), p(r.storm, 99))
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(r.storm_statuses.items(), key=str))
        errors = ", ".join(f"{k}: {v}" for k, v in r.probe_errors.items() if v) or "none"
        print(f"| {r.tree} | {q50 * 1e3:.1f} | {q99 * 1e3:.1f} | {s50 * 1e3:.1f} | {s99 * 1e3:.1f} | {s99 / q99:.1f}× | "
              f"{answers} | {r.storm_seconds:.1f} s | {errors} |")
    if len(results) == 2:
        print(f"\nstorm p99, before / after: {p(results[0].storm, 99) / p(results[1].storm, 99):.1f}×")


async def main(args: argparse.Namespace) -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="login-storm-tree-") as exported:
        trees = {"before": lambda: export(args.before, Path(exported)), "after": lambda: ROOT}
        for name in ("before", "after"):
            if args.only in (None, name):
                label = f"{name} ({args.before})" if name == "before" else f"{name} (this checkout)"
                results.append(await measure(label, trees[name](), args))
    report(results, args)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
