"""Idempotency-Key on payments: replay, reuse with another body, concurrent retries, expiry, purge."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from app.domain.base import utcnow
from app.domain.fees.payments.model import Allocation, Payment, Receipt
from app.domain.idempotency import service as idempotency
from app.domain.idempotency.model import IdempotencyRecord
from app.jobs.runner import run_job
from tests.factories import make_staff
from tests.helpers.payments import desk, pay
from tests.registry_factories import count_rows, make_building, make_unit


class TestReplay:
    async def test_same_key_same_body_returns_the_first_receipt(self, client, session):
        d = await desk(session)
        first = await pay(client, d, key="pay-1", amount="180.00", tendered="200")
        assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
        again = await pay(client, d, key="pay-1", amount="180.00", tendered="200")
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert await count_rows(session, Payment) == 1 and await count_rows(session, Receipt) == 1
        assert await count_rows(session, Allocation) == 2

    async def test_same_amount_written_differently_is_the_same_request(self, client, session):
        d = await desk(session)
        first = await pay(client, d, key="pay-2", amount="180.00")
        again = await pay(client, d, key="pay-2", amount=180)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json()["receipt"]["number"] == first.json()["receipt"]["number"]

    async def test_same_key_other_body_409(self, client, session):
        d = await desk(session)
        assert (await pay(client, d, key="pay-3", amount="10.00")).status_code == 201
        r = await pay(client, d, key="pay-3", amount="11.00")
        assert r.status_code == 409 and r.json()["type"] == "/problems/idempotency-key-reused"
        assert r.json()["key"] == "pay-3"
        assert await count_rows(session, Payment) == 1

    async def test_same_key_other_unit_409(self, client, session):
        d = await desk(session)
        other_unit = await make_unit(session, building=await make_building(session, estate=d.estate))
        assert (await pay(client, d, key="pay-4", amount="10.00")).status_code == 201
        r = await pay(client, d, key="pay-4", amount="10.00", unit_id=other_unit.id)
        assert r.status_code == 409 and r.json()["type"] == "/problems/idempotency-key-reused"

    async def test_keys_belong_to_their_caller(self, client, session):
        d = await desk(session)
        colleague = await make_staff(session, estates=[d.estate])
        a = await pay(client, d, key="shared", amount="10.00")
        b = await pay(client, d, key="shared", amount="10.00", staff=colleague)
        assert "Idempotent-Replayed" not in b.headers
        assert a.json()["receipt"]["number"] != b.json()["receipt"]["number"]
        assert await count_rows(session, Payment) == 2

    async def test_a_refused_request_stores_nothing_and_can_be_retried(self, client, session):
        d = await desk(session)
        r = await pay(client, d, key="pay-5", amount="10.00", method="bank_card")
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/reference-required"
        assert await count_rows(session, IdempotencyRecord) == 0
        r = await pay(client, d, key="pay-5", amount="10.00", method="bank_card", reference="6222-1")
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers

    async def test_record_is_kept_at_least_a_day(self, client, session):
        d = await desk(session)
        before = utcnow()
        await pay(client, d, key="pay-6", amount="10.00")
        row = (await session.execute(select(IdempotencyRecord))).scalar_one()
        assert row.expires_at - before >= timedelta(hours=24)
        assert row.status == 201 and row.response_body["receipt"]["amount"] == "10.00"
        assert len(row.request_hash) == 64


class TestConcurrentRetries:
    async def test_same_key_at_once_takes_the_money_once(self, client, session):
        d = await desk(session)
        results = await asyncio.gather(*[pay(client, d, key="double-click", amount="160.56") for _ in range(4)])
        assert [r.status_code for r in results] == [201] * 4
        assert len({r.json()["receipt"]["number"] for r in results}) == 1
        assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 3
        assert await count_rows(session, Payment) == 1 and await count_rows(session, Receipt) == 1

    async def test_same_key_other_body_at_once(self, client, session):
        d = await desk(session)
        results = await asyncio.gather(pay(client, d, key="k", amount="10.00"), pay(client, d, key="k", amount="20.00"))
        assert sorted(r.status_code for r in results) == [201, 409]
        assert max(results, key=lambda r: r.status_code).json()["type"] == "/problems/idempotency-key-reused"
        assert await count_rows(session, Payment) == 1


class TestExpiry:
    async def test_an_expired_key_runs_again(self, client, session):
        d = await desk(session)
        await pay(client, d, key="old", amount="10.00")
        await session.execute(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
        r = await pay(client, d, key="old", amount="10.00")
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
        assert await count_rows(session, Payment) == 2 and await count_rows(session, IdempotencyRecord) == 1

    async def test_purge_job_deletes_expired_records(self, app, client, session):
        d = await desk(session)
        await pay(client, d, key="a", amount="10.00")
        await pay(client, d, key="b", amount="10.00")
        await session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "a")
                              .values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
        [result] = await run_job(app.state.sessionmaker, "purge_expired")
        assert result.status == "succeeded", result.error
        assert result.summary["deleted"]["idempotency_records"] == 1
        assert [r.key for r in (await session.execute(select(IdempotencyRecord))).scalars()] == ["b"]


def test_canonical_hash_ignores_key_order_and_amount_spelling():
    a = idempotency.request_hash({"amount": Decimal("180.00"), "method": "cash"})
    b = idempotency.request_hash({"method": "cash", "amount": Decimal("180")})
    c = idempotency.request_hash({"method": "cash", "amount": Decimal("180.01")})
    assert a == b != c
