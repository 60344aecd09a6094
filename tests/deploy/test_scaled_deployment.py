"""The compose deployment in OS processes: two APIs, one `propdesk scheduler`, then two more dispatchers.

On one PostgreSQL (the test server): two API processes (`propdesk serve --no-scheduler
--no-migrate` as in docker-compose.yml, each on its own port) and one `propdesk scheduler` (job clock + dispatcher), a
webhook receiver and an SMS-bridge receiver (the notification webhook gateway), both real HTTP
servers in this process. Payments and work-order dispatches go through BOTH APIs. Then:
every webhook and owner notification arrives exactly once (counted by id at the receivers), the
clock's start-up catch-up ran every job period once, and each API's event stream carried the
events made through the other. Phase two adds two `propdesk dispatcher` processes, so three
dispatchers run at once, and still everything arrives exactly once.
"""
from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.events.model import DeliveryStatus, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.domain.notifications.model import NotificationStatus, OwnerNotification
from app.domain.registry.model import Estate
from app.jobs import runner
from app.jobs.model import JobRun, RunStatus
from app.jobs.registry import JOBS
from tests.events.receiver import Receiver
from tests.factories import make_estate, make_staff
from tests.faults import procs
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.dispatch import local, window
from tests.registry_factories import make_building, make_owner, make_unit
from tests.repairs_factories import make_order

API = "/api/v1"
HOOK_SECRET = "whsec_deploy-test"
SMS_SECRET = "sms-bridge-secret"
PAYMENTS_PER_PHASE = 8
ORDERS_PER_PHASE = 2
FAST = {"PROPDESK_DISPATCH_INTERVAL_SECONDS": "0.2"}
TRIED = re.compile(r"dispatch pass tried (\d+) webhook deliveries, (\d+) owner notifications")


async def _arrange(session):
    estate = await make_estate(session)
    # Made forty days ago: the scheduler's start-up catch-up has a recent period of every job to run.
    await session.execute(update(Estate).where(Estate.id == estate.id).values(created_at=utcnow() - timedelta(days=40)))
    building = await make_building(session, estate=estate)
    unit = await make_unit(session, building=building)
    await make_owner(session, estate=estate, phones=["13800138000"], units=[unit])
    item = await make_fee_item(session, estate=estate)
    for month in range(1, 13):
        await make_charge(session, unit=unit, item=item, amount="100.00", period=f"2026-{month:02d}")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    tech = await make_staff(session, estates=[estate], roles=[Role.technician])
    orders = [await make_order(session, estate=estate, unit=unit) for _ in range(2 * ORDERS_PER_PHASE)]
    session.add(WebhookEndpoint(estate_id=estate.id, url="", secret=HOOK_SECRET, event_types=[]))
    await session.commit()
    # Plain values: the polls below expire the session's objects.
    return World(estate_id=estate.id, unit_id=unit.id, desk=desk.headers, tech_id=tech.id, orders=[o.id for o in orders])


@dataclass(frozen=True)
class World:
    estate_id: uuid.UUID
    unit_id: uuid.UUID
    desk: dict[str, str]
    tech_id: uuid.UUID
    orders: list[uuid.UUID]


class Stream:
    """One API's /stream, read in the background: the event ids it carried."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base, self.headers = base, headers
        self.ids: set[str] = set()
        self.connected = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=None) as http, \
                http.stream("GET", f"{API}/stream", headers=self.headers) as r:
            assert r.status_code == 200
            async for line in r.aiter_lines():
                self.connected.set()  # the first frame (retry:) comes after the stream fixed its start
                if line.startswith("data: "):
                    self.ids.add(json.loads(line[6:])["id"])

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def _work(apis: list[str], w: World, orders: list[uuid.UUID], *, hours: list[int]) -> None:
    """Payments and dispatches, alternating between the APIs, both APIs busy at once."""
    async def pay(base: str, n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            for _ in range(n):
                r = await http.post(f"{API}/units/{w.unit_id}/payments", headers={**w.desk, "Idempotency-Key": str(uuid.uuid4())},
                                    json={"settle": "oldest_first", "amount": "30.00", "method": "cash"})
                assert r.status_code == 201, r.text

    async def dispatch(base: str, order: uuid.UUID, hour: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            r = await http.post(f"{API}/work-orders/{order}/dispatch", headers=w.desk,
                                json=window(local(hour), local(hour + 1), technician_id=str(w.tech_id)))
            assert r.status_code == 200, r.text

    await asyncio.gather(*(pay(base, PAYMENTS_PER_PHASE // len(apis)) for base in apis),
                         *(dispatch(apis[i % len(apis)], order, hour) for i, (order, hour) in enumerate(zip(orders, hours, strict=True))))


async def _all_delivered(session, hooks: Receiver, sms: Receiver) -> bool:
    session.expire_all()
    deliveries = (await session.execute(select(WebhookDelivery.event_id, WebhookDelivery.status))).all()
    notes = (await session.execute(select(OwnerNotification.id, OwnerNotification.status))).all()
    return (all(s == DeliveryStatus.delivered.value for _, s in deliveries) and len(hooks.per_event()) == len(deliveries)
            and all(s == NotificationStatus.sent.value for _, s in notes) and len(sms.per_event()) == len(notes))


async def _exactly_once(session, hooks: Receiver, sms: Receiver) -> tuple[int, int]:
    session.expire_all()
    events = set((await session.execute(select(WebhookDelivery.event_id))).scalars())
    assert hooks.per_event() == {str(e): 1 for e in events}, "a webhook missing or sent twice"
    assert all(p["valid"] for p in hooks.posts) and len(hooks.posts) == len(events)
    notes = set((await session.execute(select(OwnerNotification.id))).scalars())
    assert sms.per_event() == {str(n): 1 for n in notes}, "an owner notification missing or sent twice"
    assert all(p["valid"] for p in sms.posts) and len(sms.posts) == len(notes)
    return len(events), len(notes)


def _tried(log: Path) -> int:
    return sum(int(h) + int(n) for h, n in TRIED.findall(log.read_text(errors="replace")))


# Five Python processes start here; on a loaded 2-CPU machine that alone can take a minute or two.
@pytest.mark.timeout(300)
async def test_two_apis_a_scheduler_and_extra_dispatchers(session, database_url, tmp_path):
    w = await _arrange(session)
    with Receiver(secret=HOOK_SECRET, delay=0.05) as hooks, \
            Receiver(secret=SMS_SECRET, delay=0.05, key=lambda body: json.loads(body)["id"]) as sms:
        await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.estate_id == w.estate_id).values(url=hooks.url))
        await session.commit()
        ports = [procs.free_port(), procs.free_port()]
        apis = [f"http://127.0.0.1:{p}" for p in ports]
        sender_env = {**FAST, "PROPDESK_NOTIFY_GATEWAY": "webhook", "PROPDESK_NOTIFY_WEBHOOK_URL": sms.url,
                      "PROPDESK_NOTIFY_WEBHOOK_SECRET": SMS_SECRET}
        logs = {name: tmp_path / f"{name}.log" for name in ("api-a", "api-b", "scheduler", "dispatcher-1", "dispatcher-2")}
        started_at = utcnow()
        # The API as docker-compose.yml runs it (the test database is built from the models: no migration).
        running = [procs.start_cli(database_url, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler",
                                   "--no-migrate", log=logs[name]) for port, name in zip(ports, ("api-a", "api-b"), strict=True)]
        running.append(procs.start_cli(database_url, "scheduler", log=logs["scheduler"], **sender_env))
        streams: list[Stream] = []
        try:
            await asyncio.gather(*(procs.wait_healthy(base, proc, timeout=120) for base, proc in zip(apis, running[:2], strict=True)))
            streams = [Stream(base, w.desk) for base in apis]
            await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in streams)), timeout=15)
            # The clock's start-up catch-up runs the estate's recent periods (and announces its reports).
            await procs.wait_until(lambda: "catch-up:" in logs["scheduler"].read_text(), timeout=30, every=0.2,
                                   what="the scheduler's start-up catch-up")

            # Phase one: only the scheduler's dispatcher runs.
            await _work(apis, w, w.orders[:ORDERS_PER_PHASE], hours=[8, 10])
            await procs.wait_until(lambda: _all_delivered(session, hooks, sms), timeout=30, every=0.2,
                                   what="phase one delivered by the scheduler's dispatcher")
            assert running[2].poll() is None
            first = await _exactly_once(session, hooks, sms)

            # Phase two: two more dispatchers, three at once.
            running += [procs.start_cli(database_url, "dispatcher", log=logs[name], **sender_env)
                        for name in ("dispatcher-1", "dispatcher-2")]
            await procs.wait_until(lambda: all("running: dispatcher" in logs[n].read_text() for n in ("dispatcher-1", "dispatcher-2")),
                                   timeout=30, every=0.2, what="the two dispatchers to start")
            await _work(apis, w, w.orders[ORDERS_PER_PHASE:], hours=[14, 16])
            await procs.wait_until(lambda: _all_delivered(session, hooks, sms), timeout=30, every=0.2,
                                   what="phase two delivered by three dispatchers")
            webhooks, notes = await _exactly_once(session, hooks, sms)
            assert all(p.poll() is None for p in running), "a process died"
            await _streams_saw_both(session, streams, estate_id=w.estate_id)
        finally:
            for s in streams:
                await s.close()
            for proc in running:
                procs.stop(proc)
    await _jobs_ran_once(session, database_url, now=started_at)
    await _claims_add_up(session, logs)
    split = {name: _tried(log) for name, log in logs.items() if name.startswith(("scheduler", "dispatcher"))}
    print(f"\nphase one {first[0]} webhooks, {first[1]} notifications; in all {webhooks} webhooks, {notes} notifications; "
          f"tried per process: {split}")


async def _streams_saw_both(session, streams: list[Stream], *, estate_id: uuid.UUID) -> None:
    """Each API's stream carried every event of the estate since it connected, whichever process made it."""
    rows = (await session.execute(select(OutboxEvent.id, OutboxEvent.seq, OutboxEvent.type).where(
        OutboxEvent.estate_id == estate_id, OutboxEvent.type.in_(["payment.received", "order.dispatched"])))).all()
    made = {str(r.id): r.seq for r in rows}
    assert len(made) == 2 * (PAYMENTS_PER_PHASE + ORDERS_PER_PHASE)
    try:
        await procs.wait_until(lambda: all(set(made) <= s.ids for s in streams), timeout=15, every=0.1,
                               what="both streams to carry every payment and dispatch")
    except AssertionError:
        missing = [sorted(made[i] for i in set(made) - s.ids) for s in streams]
        raise AssertionError(f"seqs missing per stream: {missing}; all: {sorted(made.values())}") from None


async def _jobs_ran_once(session, database_url: str, *, now: datetime) -> None:
    session.expire_all()
    runs = (await session.execute(select(JobRun.job, JobRun.estate_id, JobRun.period, JobRun.status, JobRun.attempts))).all()
    assert {r.job for r in runs} == set(JOBS), "the catch-up did not run every job"
    assert [r for r in runs if r.status != RunStatus.succeeded.value or r.attempts != 1] == []
    # Nothing due is left: every recent period has its one succeeded run.
    from app.db import make_engine, make_sessionmaker

    engine = make_engine(database_url, pool_size=1)
    try:
        assert await runner.catch_up(make_sessionmaker(engine), now=now) == []
    finally:
        await engine.dispose()


async def _claims_add_up(session, logs: dict[str, Path]) -> None:
    """What the dispatchers say they tried is what the database recorded: no claim taken twice."""
    attempts = (await session.execute(select(func.count()).select_from(WebhookAttempt))).scalar_one()
    notified = (await session.execute(select(func.coalesce(func.sum(OwnerNotification.attempts), 0)))).scalar_one()
    assert sum(_tried(log) for name, log in logs.items() if not name.startswith("api")) == attempts + notified
