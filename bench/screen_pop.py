"""Screen pop: from the telephony integration's POST to every desk screen showing the caller.

    PROPDESK_DATA_DIR=/tmp/sp propdesk serve --demo --port 8793 --no-scheduler &
    .venv/bin/python bench/screen_pop.py --url http://127.0.0.1:8793 --estate QS --calls 400

Signs in the estate's desk users (reception, night duty, supervisor), each opens a stream of
`call.incoming` events as a desk screen would; then rings calls one after another for the
demo's owners' phones (and a few unknown numbers), while `--busy` clients keep the server
busy looking callers up. For each call: the POST's own time, and the time until the last
screen has the event. The floor is the same server answering `GET /estates/{id}/callers`
for the same numbers (the lookup alone, one round trip) in the same run, alternating.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from dataclasses import dataclass, field

import httpx
from common import API, login

SCREENS = ("reception", "night", "supervisor")


@dataclass
class Screen:
    client: httpx.AsyncClient
    seen: dict[str, float] = field(default_factory=dict)  # call id -> when this screen had it
    last_event_id: int | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def follow(self, estate_id: str, stop: asyncio.Event) -> None:
        """Read call.incoming frames; reconnect (with Last-Event-ID) when the server ends the stream."""
        while not stop.is_set():
            headers = {"Last-Event-ID": str(self.last_event_id)} if self.last_event_id is not None else {}
            params = {"estate_id": estate_id, "types": "call.incoming"}
            async with self.client.stream("GET", f"{API}/stream", params=params, headers=headers, timeout=None) as r:
                r.raise_for_status()
                async for line in r.aiter_lines():
                    if line.startswith("id: "):
                        self.last_event_id = int(line[4:])
                    elif line.startswith("data: "):
                        self.seen[json.loads(line[6:])["entity_id"]] = time.perf_counter()
                        self.arrived.set()
                    if stop.is_set():
                        return


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def row(name: str, ms: list[float]) -> str:
    return (f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {pct(ms, 95):.1f} | {pct(ms, 99):.1f} | "
            f"{max(ms):.1f} |")


async def phones_of(client: httpx.AsyncClient, estate_id: str, limit: int) -> list[str]:
    r = await client.get(f"{API}/estates/{estate_id}/owners", params={"limit": min(limit, 200)})
    r.raise_for_status()
    return [p["phone"] for o in r.json()["items"] for p in o["phones"]][:limit]


async def busy(client: httpx.AsyncClient, estate_id: str, phones: list[str], stop: asyncio.Event, rng: random.Random) -> None:
    while not stop.is_set():
        await client.get(f"{API}/estates/{estate_id}/callers", params={"phone": rng.choice(phones)})


async def one_call(ringer: httpx.AsyncClient, screens: list[Screen], estate_id: str, phone: str) -> tuple[float, float]:
    for s in screens:
        s.arrived.clear()
    started = time.perf_counter()
    r = await ringer.post(f"{API}/estates/{estate_id}/calls", json={"phone": phone, "line": "8001"})
    posted = time.perf_counter()
    r.raise_for_status()
    call_id = r.json()["id"]
    deadline = started + 10
    for s in screens:
        while call_id not in s.seen and time.perf_counter() < deadline:
            try:
                await asyncio.wait_for(s.arrived.wait(), timeout=max(0.0, deadline - time.perf_counter()))
            except TimeoutError:
                break
            s.arrived.clear()
    missing = [s for s in screens if call_id not in s.seen]
    if missing:
        raise SystemExit(f"call {call_id} did not reach {len(missing)} screen(s) within 10 s")
    return (posted - started) * 1000, (max(s.seen[call_id] for s in screens) - started) * 1000


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=50)
    clients = [httpx.AsyncClient(base_url=args.url, timeout=30, limits=limits) for _ in range(len(SCREENS) + 1 + args.busy)]
    ringer, screen_clients, busy_clients = clients[0], clients[1:1 + len(SCREENS)], clients[1 + len(SCREENS):]
    code = args.estate.lower()
    for c, suffix in zip(clients, ["reception", *SCREENS, *["reception"] * args.busy], strict=True):
        await login(c, f"{code}.{suffix}", args.password)
    estates = (await ringer.get(f"{API}/estates")).json()
    estate_id = next(e["id"] for e in (estates["items"] if isinstance(estates, dict) else estates) if e["code"] == args.estate)
    phones = await phones_of(ringer, estate_id, 400)
    numbers = phones + [f"139{rng.randrange(10**8):08d}" for _ in range(max(1, len(phones) // 10))]
    stop = asyncio.Event()
    screens = [Screen(client=c) for c in screen_clients]
    tasks = [asyncio.create_task(s.follow(estate_id, stop)) for s in screens]
    tasks += [asyncio.create_task(busy(c, estate_id, phones, stop, rng)) for c in busy_clients]
    await asyncio.sleep(1.0)  # the streams are open and have read once
    post_ms, pop_ms, floor_ms = [], [], []
    for _ in range(args.calls):
        phone = rng.choice(numbers)
        started = time.perf_counter()
        (await ringer.get(f"{API}/estates/{estate_id}/callers", params={"phone": phone})).raise_for_status()
        floor_ms.append((time.perf_counter() - started) * 1000)
        post, pop = await one_call(ringer, screens, estate_id, phone)
        post_ms.append(post)
        pop_ms.append(pop)
        await asyncio.sleep(args.pause)
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in clients:
        await c.aclose()
    print(f"\n{args.calls} calls to {len(SCREENS)} desk screens of {args.estate}, {args.busy} busy client(s) looking callers up\n")
    print("| what | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|")
    print(row("caller lookup alone (GET /callers, the floor)", floor_ms))
    print(row("POST /calls answered", post_ms))
    print(row("POST to the last screen showing the call", pop_ms))
    print(f"\npop p99 / lookup p99: {pct(pop_ms, 99) / pct(floor_ms, 99):.2f}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8793")
    p.add_argument("--estate", default="QS", help="a demo estate's code")
    p.add_argument("--password", default="propdesk-demo")
    p.add_argument("--calls", type=int, default=400)
    p.add_argument("--busy", type=int, default=2, help="clients looking callers up meanwhile")
    p.add_argument("--pause", type=float, default=0.02, help="seconds between calls")
    return p.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
