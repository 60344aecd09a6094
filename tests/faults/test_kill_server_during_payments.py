"""SIGKILL the API in the middle of a payment load; after a restart the books still balance.

Several cashiers take payments over HTTP against a real uvicorn process, each with its own
Idempotency-Key. The server is killed with SIGKILL while requests are in flight, started
again on the same database, and every request whose answer was lost is retried with its key
and body. Then: every 2xx is in the database with its receipt, no retry paid twice, receipt
numbers are 1..N, no charge holds more than its amount, every cashier session's figures
agree with its receipts, and the next payment continues the sequence.
"""
from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from app.domain.auth.roles import Role
from app.domain.fees.model import Charge
from app.domain.fees.payments.model import Allocation, DocumentCounter, Payment, Receipt
from tests.factories import make_estate, make_staff
from tests.faults import procs
from tests.fees_factories import make_charge, make_fee_item
from tests.registry_factories import make_building, make_unit

API = "/api/v1"
CASHIERS = 3
CLIENTS_PER_CASHIER = 2
KILL_AFTER = 12  # successful payments before the SIGKILL


@dataclass
class Attempt:
    key: str
    unit_id: uuid.UUID
    body: dict[str, Any]
    headers: dict[str, str]
    status: int | None = None  # None: no answer (in flight at the kill, or refused while down)
    answer: dict[str, Any] | None = None
    replayed: bool = False

    async def send(self, http: httpx.AsyncClient) -> None:
        r = await http.post(f"{API}/units/{self.unit_id}/payments", json=self.body,
                            headers={**self.headers, "Idempotency-Key": self.key})
        self.status, self.answer = r.status_code, r.json()
        self.replayed = r.headers.get("Idempotent-Replayed") == "true"


async def _arrange(session):
    estate = await make_estate(session)
    building = await make_building(session, estate=estate)
    item = await make_fee_item(session, estate=estate)
    units = [await make_unit(session, building=building) for _ in range(4)]
    for unit in units:
        for month in range(1, 5):
            await make_charge(session, unit=unit, item=item, amount="100.00", period=f"2026-{month:02d}")
    cashiers = [await make_staff(session, estates=[estate], roles=[Role.receptionist]) for _ in range(CASHIERS)]
    return estate, units, cashiers


async def _cashier_loop(http: httpx.AsyncClient, attempts: list[Attempt], *, cashier, units, rng: random.Random,
                        killed: asyncio.Event) -> None:
    while not killed.is_set():
        amount = Decimal(rng.randint(1000, 9000)) / 100
        attempt = Attempt(key=str(uuid.uuid4()), unit_id=rng.choice(units).id, headers=cashier.headers,
                          body={"settle": "oldest_first", "amount": str(amount), "method": "cash"})
        attempts.append(attempt)
        try:
            await attempt.send(http)
        except httpx.TransportError:
            return  # the server is gone: this answer is lost
        assert attempt.status == 201, (attempt.status, attempt.answer)


async def _load_then_kill(base: str, server, cashiers, units) -> list[Attempt]:
    attempts: list[Attempt] = []
    killed = asyncio.Event()
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        loops = [asyncio.create_task(_cashier_loop(http, attempts, cashier=c, units=units, rng=random.Random(rng.random()),
                                                   killed=killed))
                 for c in cashiers for _ in range(CLIENTS_PER_CASHIER)]
        await procs.wait_until(lambda: sum(a.status == 201 for a in attempts) >= KILL_AFTER or any(t.done() for t in loops),
                               timeout=20, what=f"{KILL_AFTER} payments", every=0.005)
        procs.sigkill(server)
        killed.set()
        await asyncio.gather(*loops)
    return attempts


async def test_payments_survive_a_sigkill_of_the_server(session, database_url, tmp_path):
    estate, units, cashiers = await _arrange(session)
    port = procs.free_port()
    base = f"http://127.0.0.1:{port}"
    server = procs.start_api(database_url, port=port, log=tmp_path / "api.log")
    try:
        await procs.wait_healthy(base, server)
        attempts = await _load_then_kill(base, server, cashiers, units)
        lost = [a for a in attempts if a.status is None]
        assert lost, "the kill must land while payments are in flight"
        answered_before = {a.key for a in attempts if a.status == 201}

        server = procs.start_api(database_url, port=port, log=tmp_path / "api.log")
        await procs.wait_healthy(base, server)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            await asyncio.gather(*[a.send(http) for a in lost])  # the cashiers press "retry"
            assert [(a.status, a.answer) for a in lost if a.status != 201] == []
            replay = Attempt(key=attempts[0].key, unit_id=attempts[0].unit_id, body=attempts[0].body, headers=attempts[0].headers)
            await replay.send(http)
            assert (replay.status, replay.replayed, replay.answer) == (201, True, attempts[0].answer)
            await _books_balance(session, http, estate=estate, attempts=attempts, cashiers=cashiers)
            await _next_payment_continues(session, http, estate=estate, unit=units[0], cashier=cashiers[0])
    finally:
        procs.stop(server)
    print(f"\n{len(answered_before)} answered before the kill, {len(lost)} lost and retried "
          f"({sum(a.replayed for a in lost)} of them had committed before the kill)")


async def _books_balance(session, http: httpx.AsyncClient, *, estate, attempts: list[Attempt], cashiers) -> None:
    payments = {p.id: p for p in (await session.execute(select(Payment).where(Payment.estate_id == estate.id))).scalars()}
    answered = {uuid.UUID(a.answer["id"]): a.answer for a in attempts}
    # Every 2xx is there, and nothing else is: a retried payment was not taken twice.
    assert set(payments) == set(answered)
    receipts = (await session.execute(select(Receipt).where(Receipt.estate_id == estate.id))).scalars().all()
    assert {(r.payment_id, r.number, r.amount) for r in receipts} == {
        (pid, a["receipt"]["number"], Decimal(a["amount"])) for pid, a in answered.items()}
    assert sorted(r.seq for r in receipts) == list(range(1, len(receipts) + 1)), "a gap or a duplicate receipt number"
    counter = (await session.execute(select(DocumentCounter.last_seq).where(DocumentCounter.estate_id == estate.id))).scalar_one()
    assert counter == len(receipts)
    await _no_charge_overpaid(session, estate_id=estate.id, payments=payments)
    for cashier in cashiers:
        await _session_agrees(session, http, estate_id=estate.id, cashier=cashier)


async def _no_charge_overpaid(session, *, estate_id: uuid.UUID, payments: dict) -> None:
    allocated = (select(Allocation.charge_id, func.sum(Allocation.amount).label("total"))
                 .where(Allocation.reversed_at.is_(None)).group_by(Allocation.charge_id).subquery())
    rows = (await session.execute(select(Charge.amount, Charge.amount_paid, func.coalesce(allocated.c.total, 0))
                                  .outerjoin(allocated, allocated.c.charge_id == Charge.id)
                                  .where(Charge.estate_id == estate_id))).all()
    assert all(paid == total <= amount for amount, paid, total in rows), rows
    by_payment = dict((await session.execute(select(Allocation.payment_id, func.sum(Allocation.amount))
                                             .group_by(Allocation.payment_id))).all())
    assert all(by_payment.get(p.id, 0) + p.credit == p.amount for p in payments.values())


async def _session_agrees(session, http: httpx.AsyncClient, *, estate_id: uuid.UUID, cashier) -> None:
    r = await http.get(f"{API}/estates/{estate_id}/cashier-sessions/current", headers=cashier.headers)
    assert r.status_code == 200, r.text
    shown = r.json()
    total, count = (await session.execute(select(func.coalesce(func.sum(Payment.amount), 0), func.count())
                                          .where(Payment.cashier_id == cashier.id))).one()
    assert (Decimal(shown["expected"]["cash"]), shown["receipt_count"], len(shown["receipts"])) == (total, count, count)
    sessions = (await session.execute(select(func.count(func.distinct(Payment.cashier_session_id)))
                                      .where(Payment.cashier_id == cashier.id))).scalar_one()
    assert sessions <= 1 and all(line["counted"] for line in shown["receipts"])


async def _next_payment_continues(session, http: httpx.AsyncClient, *, estate, unit, cashier) -> None:
    before = (await session.execute(select(func.max(Receipt.seq)).where(Receipt.estate_id == estate.id))).scalar_one()
    after = Attempt(key=str(uuid.uuid4()), unit_id=unit.id, headers=cashier.headers,
                    body={"settle": "oldest_first", "amount": "12.34", "method": "cash"})
    await after.send(http)
    assert after.status == 201, after.answer
    assert after.answer["receipt"]["number"].endswith(f"-{before + 1:06d}")
