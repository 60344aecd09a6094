"""Receipt numbers are gapless and unique under concurrency from several OS processes.

Four worker processes (this module run with `python -m`) each take many payments at once
through the payments service, against the test's database. Some transactions fail after
their receipt number was taken (an error raised, a failing statement) and roll back; some
are refused before any number is taken. The committed receipts must then be numbered
exactly 1..N, with no gap and no duplicate, and the counter must stand at N.
"""
from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text

from app.domain.auth.roles import Role
from app.domain.fees.payments.model import DocumentCounter, Receipt, ReceiptStatus
from tests.factories import make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.registry_factories import make_building, make_unit, two_estates

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = 4
TASKS_PER_PROCESS = 40


class Injected(Exception):
    """A failure after the number was taken: the transaction must give the number back."""


async def _one(factory, *, actor, unit_id: uuid.UUID, fate: str, rng: random.Random) -> str | None:
    from app.domain.fees.payments import service as payments
    from app.domain.fees.payments.schemas import PaymentCreate

    amount = Decimal(rng.randint(100, 50000)) / 100
    tendered = amount - Decimal("0.01") if fate == "refused" else amount + Decimal(rng.randint(0, 2000)) / 100
    data = PaymentCreate(settle="oldest_first", amount=amount, method="cash", tendered=tendered)
    async with factory() as session:
        try:
            result = await payments.take_payment(session, actor=actor, unit_id=unit_id, data=data)
            await asyncio.sleep(rng.random() * 0.01)  # hold the counter's lock a little while
            if fate == "raise":
                raise Injected(result.receipt.number)
            if fate == "sql_error":
                await session.execute(text("SELECT 1 / 0"))
            await session.commit()
            return result.receipt.number
        except Exception:  # noqa: BLE001 -- injected, refused or failed: each must roll back cleanly
            await session.rollback()
            return None


async def worker(config: dict) -> dict:
    from app.db import make_engine, make_sessionmaker
    from app.domain.auth import service as auth_service
    from app.domain.auth.model import User

    engine = make_engine(config["url"], pool_size=8)
    factory = make_sessionmaker(engine)
    rng = random.Random(config["seed"])
    async with factory() as session:
        users = [await session.get(User, uuid.UUID(u)) for u in config["cashiers"]]
        actors = [await auth_service.actor_for(session, user=u) for u in users]
    fates = ["ok"] * 6 + ["raise", "sql_error", "refused"]
    plan = [(rng.choice(actors), uuid.UUID(rng.choice(config["units"])), rng.choice(fates)) for _ in range(config["tasks"])]
    numbers = await asyncio.gather(*[_one(factory, actor=a, unit_id=u, fate=f, rng=random.Random(rng.random()))
                                     for a, u, f in plan])
    await engine.dispose()
    committed = [n for n in numbers if n is not None]
    return {"committed": committed, "failed": sum(1 for f in plan if f[2] != "ok"),
            "expected_ok": sum(1 for f in plan if f[2] == "ok")}


async def test_receipt_numbers_are_gapless_across_processes(session, database_url):
    estate, _ = await two_estates(session)
    building = await make_building(session, estate=estate)
    units = [await make_unit(session, building=building) for _ in range(6)]
    item = await make_fee_item(session, estate=estate)
    for unit in units:
        for month in range(1, 4):
            await make_charge(session, unit=unit, item=item, amount="120.00", period=f"2026-{month:02d}")
    cashiers = [await make_staff(session, estates=[estate], roles=[Role.receptionist]) for _ in range(6)]
    base = {"url": database_url, "units": [str(u.id) for u in units], "tasks": TASKS_PER_PROCESS}
    procs = []
    for i in range(PROCESSES):
        config = {**base, "seed": 1000 + i, "cashiers": [str(c.id) for c in cashiers]}
        procs.append(subprocess.Popen([sys.executable, "-m", "tests.test_gapless_receipts", json.dumps(config)],
                                      cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    reports = []
    for proc in procs:
        out, err = await asyncio.to_thread(proc.communicate, timeout=110)
        assert proc.returncode == 0, err[-3000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))

    committed = [n for r in reports for n in r["committed"]]
    assert sum(r["failed"] for r in reports) > 0, "some transactions must have failed and rolled back"
    assert len(committed) == sum(r["expected_ok"] for r in reports)
    rows = (await session.execute(select(Receipt.seq, Receipt.number, Receipt.status).where(Receipt.estate_id == estate.id))).all()
    seqs = sorted(r.seq for r in rows)
    assert seqs == list(range(1, len(committed) + 1)), "a gap or a duplicate in the receipt numbers"
    assert sorted(r.number for r in rows) == sorted(committed) and len(set(committed)) == len(committed)
    assert all(r.status == ReceiptStatus.issued.value for r in rows)
    counter = (await session.execute(select(DocumentCounter.last_seq).where(DocumentCounter.estate_id == estate.id))).scalar_one()
    assert counter == len(committed)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(worker(json.loads(sys.argv[1])))))
