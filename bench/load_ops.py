"""The desk's operations for bench/load.py: the recorder, sign-in, the estate's working set, and one
coroutine per role. Every request goes through `Recorder.call`, which times it and counts anything
but the expected status as an error."""
from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

import httpx

API = "/api/v1"


# --- recording -----------------------------------------------------------------------------


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    samples: dict[str, str] = field(default_factory=dict)  # first body of each (op, status): to see why
    recording: bool = True

    async def call(self, client: httpx.AsyncClient, op: str, method: str, path: str, *,
                   expect: tuple[int, ...] = (200,), **kw: object) -> httpx.Response | None:
        """The response when its status is expected, otherwise None (and an error counted)."""
        started = time.perf_counter()
        try:
            r = await client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            self._error(op, type(exc).__name__, str(exc))
            return None
        if self.recording:
            self.latencies[op].append(time.perf_counter() - started)
        if r.status_code in expect:
            return r
        self._error(op, str(r.status_code), r.text[:300])
        return None

    def _error(self, op: str, key: str, body: str) -> None:
        if self.recording:
            self.errors[op][key] += 1
            self.samples.setdefault(f"{op} {key}", body)


def quantile(sorted_values: list[float], q: float) -> float:
    """Nearest rank, in ms."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)] * 1000


# --- sign-in -------------------------------------------------------------------------------


@dataclass
class Login:
    username: str
    token: str
    user_id: str


class Logins:
    """One sign-in per username for the whole run (login is rate limited per user); VUs share tokens."""

    def __init__(self, url: str, password: str) -> None:
        self.url, self.password = url, password
        self._done: dict[str, Login] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def get(self, client: httpx.AsyncClient, username: str) -> Login:
        async with self._locks[username]:
            if username not in self._done:
                r = await client.post(f"{API}/auth/login", json={"username": username, "password": self.password})
                if r.status_code != 200:
                    raise SystemExit(f"sign-in of {username} failed: {r.status_code} {r.text[:200]}")
                token = r.json()["access_token"]
                me = await client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
                me.raise_for_status()
                self._done[username] = Login(username, token, me.json()["id"])
            return self._done[username]


def client_for(url: str, login: Login | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {login.token}"} if login else {}
    return httpx.AsyncClient(base_url=url, headers=headers, timeout=120,
                             limits=httpx.Limits(max_connections=4, max_keepalive_connections=4))


# --- the estate's working set --------------------------------------------------------------


@dataclass
class Caller:
    phone: str
    unit_id: str


@dataclass
class Estate:
    """What the VUs of one estate share: callers, debtors, categories, and the repair pipeline."""

    code: str
    id: str
    tz: ZoneInfo
    hours: list[tuple[clock, clock]]
    categories: list[str]
    callers: list[Caller]
    debtors: list[str]  # units with open charges
    tech_ids: list[str] = field(default_factory=list)  # the technicians who have a VU in this run
    orders: dict[str, asyncio.Queue] = field(default_factory=dict)  # technician id -> (order id, code)
    callbacks: deque[str] = field(default_factory=deque)
    slot: int = 0
    claimed: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))

    def window(self, slot: int, first_day: int) -> tuple[datetime, datetime]:
        """The slot-th one-hour window inside office hours, from `first_day` days ahead, local time."""
        per_day = [h for a, b in self.hours for h in range(a.hour + (a.minute > 0), b.hour)]
        day = datetime.now(self.tz).date() + timedelta(days=first_day + slot // len(per_day))
        start = datetime.combine(day, clock(per_day[slot % len(per_day)]), tzinfo=self.tz)
        return start, start + timedelta(hours=1)


async def _page(client: httpx.AsyncClient, path: str, **params: object) -> dict:
    r = await client.get(path, params={"limit": 200, **params})
    r.raise_for_status()
    return r.json()


async def estate_ids(client: httpx.AsyncClient, codes: list[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    offset = 0
    while True:
        body = await _page(client, f"{API}/estates", offset=offset)
        found.update({e["code"].upper(): e for e in body["items"] if e["code"].upper() in codes})
        offset += 200
        if offset >= body["total"] or len(found) == len(codes):
            break
    missing = set(codes) - set(found)
    if missing:
        raise SystemExit(f"estates not visible to the setup user: {sorted(missing)}")
    return found


async def load_estate(client: httpx.AsyncClient, estate: dict, rng: random.Random, *, want: int = 200) -> Estate:
    """A random page of owners (the callers) and of open charges (the debtors) of the estate."""
    eid = estate["id"]
    total = (await _page(client, f"{API}/estates/{eid}/owners", limit=1))["total"]
    owners = (await _page(client, f"{API}/estates/{eid}/owners", offset=rng.randrange(max(1, total - want + 1))))["items"]
    callers = [Caller(o["phones"][0]["phone"], o["units"][0]["unit_id"]) for o in owners if o["phones"] and o["units"]]
    cats = [c["code"] for c in (await _page(client, f"{API}/estates/{eid}/repair-categories"))["items"] if c["active"]]
    open_total = (await _page(client, f"{API}/estates/{eid}/charges", status="open", limit=1))["total"]
    charges = (await _page(client, f"{API}/estates/{eid}/charges", status="open",
                           offset=rng.randrange(max(1, open_total - want + 1))))["items"]
    debtors = sorted({c["unit_id"] for c in charges})
    hours = [(_t(estate["morning_open"]), _t(estate["morning_close"])),
             (_t(estate["afternoon_open"]), _t(estate["afternoon_close"]))]
    if not callers or not cats:
        raise SystemExit(f"estate {estate['code']} has no owners with phones or no repair categories")
    return Estate(code=estate["code"], id=eid, tz=ZoneInfo(estate["time_zone"]), hours=hours,
                  categories=[c for c in cats if c != "other"] or cats, callers=callers, debtors=debtors)


def _t(value: str) -> clock:
    return clock.fromisoformat(value)


# --- the roles -----------------------------------------------------------------------------


@dataclass
class VU:
    """One virtual user: a role, a login, an estate, its own connections and random stream."""

    role: str
    estate: Estate
    login: Login
    client: httpx.AsyncClient
    rec: Recorder
    rng: random.Random
    first_day: int = 1
    report_clients: list[httpx.AsyncClient] = field(default_factory=list)  # finance: one per user, in turn
    done: int = 0

    async def call(self, op: str, method: str, path: str, **kw: object) -> httpx.Response | None:
        return await self.rec.call(self.client, op, method, f"{API}{path}", **kw)


async def desk_call(vu: VU) -> None:
    """An owner rings about a repair: who is it, register it, who is free, dispatch, the owner's code."""
    e, caller = vu.estate, vu.rng.choice(vu.estate.callers)
    if await vu.call("caller lookup", "GET", f"/estates/{e.id}/callers", params={"phone": caller.phone}) is None:
        return
    r = await vu.call("register request", "POST", f"/estates/{e.id}/service-requests", expect=(201,), json={
        "channel": "phone", "category": vu.rng.choice(e.categories), "description": "压测：厨房水龙头漏水",
        "unit_id": caller.unit_id, "contact_phone": caller.phone})
    if r is None:
        return
    order_id = r.json()["work_order_id"]
    for _ in range(40):  # walk forward through the windows until one of our technicians is free
        slot = e.slot
        start, end = e.window(slot, vu.first_day)
        r = await vu.call("suggest technician", "GET", f"/estates/{e.id}/technicians/availability",
                          params={"start": start.isoformat(), "end": end.isoformat()})
        if r is None:
            return
        free = [t["technician_id"] for t in r.json()["technicians"] if t["free"]]
        ours = [t for t in free if t in e.tech_ids] if e.tech_ids else free
        ours = [t for t in ours if t not in e.claimed[slot]]
        if ours:
            tech = ours[0]
            e.claimed[slot].add(tech)  # no await since the check: no other VU can take him for this slot
            break
        e.slot = max(e.slot, slot + 1)
    else:
        return
    if await vu.call("dispatch", "POST", f"/work-orders/{order_id}/dispatch", json={
            "technician_id": tech, "start": start.isoformat(), "end": end.isoformat()}) is None:
        return
    r = await vu.call("owner code", "POST", f"/work-orders/{order_id}/owner-code", expect=(201,))
    if r is not None and tech in e.orders:
        e.orders[tech].put_nowait((order_id, r.json()["code"]))


async def desk_callback(vu: VU) -> bool:
    """Ring back an owner whose repair was completed in this run; sometimes nobody answers first."""
    if not vu.estate.callbacks:
        return False
    callback_id = vu.estate.callbacks.popleft()
    if vu.rng.random() < 0.2:
        await vu.call("log callback attempt", "POST", f"/callbacks/{callback_id}/attempts", expect=(201,),
                      json={"result": "no_answer", "note": "压测"})
    await vu.call("log callback", "POST", f"/callbacks/{callback_id}/outcome",
                  json={"outcome": "satisfied", "score": vu.rng.randint(3, 5)})
    return True


async def attention(vu: VU) -> None:
    await vu.call(f"attention ({vu.role})", "GET", "/attention")


async def desk(vu: VU) -> None:
    roll = vu.rng.random()
    if roll < 0.5:
        await desk_call(vu)
    elif roll < 0.8 and await desk_callback(vu):
        pass
    else:
        await attention(vu)


async def cashier(vu: VU) -> None:
    """An owner at the window: the bill explained, then a payment towards it."""
    unit = vu.rng.choice(vu.estate.debtors)
    r = await vu.call("explain bill", "GET", f"/units/{unit}/bill")
    if r is None:
        return
    due = Decimal(r.json()["totals"]["account_outstanding"])
    amount = Decimal(vu.rng.randint(2000, 30000)) / 100
    if due >= Decimal("1.00"):
        amount = min(amount, due)
    method = vu.rng.choices(["cash", "wechat", "alipay", "bank_card"], weights=[55, 25, 12, 8])[0]
    body: dict[str, str] = {"settle": "oldest_first", "amount": str(amount), "method": method, "payer_name": "压测"}
    if method == "cash":
        body["tendered"] = str((amount / 100).to_integral_value(rounding=ROUND_CEILING) * 100)
    else:
        body["reference"] = f"LOAD{uuid.uuid4().hex[:20].upper()}"
    await vu.call("take payment", "POST", f"/units/{unit}/payments", expect=(201,), json=body,
                  headers={"Idempotency-Key": str(uuid.uuid4())})  # unique per run, whatever the seed


async def technician(vu: VU) -> None:
    """Work the next order dispatched to me in this run; with none waiting, look at my queue."""
    queue = vu.estate.orders[vu.login.user_id]
    try:
        order_id, code = queue.get_nowait()
    except asyncio.QueueEmpty:
        await attention(vu)
        await asyncio.sleep(0.2)  # a technician's app polls, it does not spin
        return
    for step in ("accept", "start"):
        if await vu.call(f"tech {step}", "POST", f"/work-orders/{order_id}/{step}") is None:
            return
    voucher = {"work_done": "压测：更换阀芯", "materials": [{"item": "阀芯", "quantity": "1", "unit": "个"}],
               "minutes_spent": 40, "chargeable": True, "amount": "45.00", "owner_confirmation": {"name": "业主", "code": code}}
    r = await vu.call("post voucher", "POST", f"/work-orders/{order_id}/voucher", expect=(201,),
                      data={"voucher": json.dumps(voucher, ensure_ascii=False)})
    if r is not None:
        vu.estate.callbacks.append(r.json()["callback_id"])


def recent_months(today: date, n: int) -> list[str]:
    months, y, m = [], today.year, today.month
    for _ in range(n):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return months


async def finance(vu: VU) -> None:
    """Month-end: the fee report of one of the last 12 months, now and then the attention queue."""
    if vu.rng.random() < 0.25:
        await attention(vu)
        return
    month = vu.rng.choice(recent_months(datetime.now(vu.estate.tz).date(), 12))
    client = vu.report_clients[vu.done % len(vu.report_clients)] if vu.report_clients else vu.client
    vu.done += 1
    await vu.rec.call(client, "month-end fee report", "GET", f"{API}/estates/{vu.estate.id}/fee-reports/month-end",
                      params={"month": month})


async def supervisor(vu: VU) -> None:
    if vu.rng.random() < 0.7:
        await attention(vu)
    else:
        await vu.call("wall board", "GET", f"/estates/{vu.estate.id}/attention")


ROLES = {"desk": desk, "cashier": cashier, "tech": technician, "finance": finance, "supervisor": supervisor}
