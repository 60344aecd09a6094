"""The large-data generator (bench/bigdata) at a tiny scale: what it loads keeps the rules the
services keep, and the live desk carries on from it (a payment continues the receipt numbers)."""
from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from bench.bigdata import cli
from tests import db

pytestmark = pytest.mark.fresh_database  # the loader sets the indexes aside while it copies

SCALE = 0.001
# Full-scale targets (the issue's): table -> rows at --scale 1.0.
TARGETS = {"unit": 200_000, "owner": 250_000, "charge": 7_000_000, "payment": 5_000_000, "work_order": 600_000}

CHECKS = {
    "payments that are not their allocations plus credit": """
        SELECT count(*) FROM payment p LEFT JOIN (SELECT payment_id, sum(amount) s FROM allocation GROUP BY 1) a
          ON a.payment_id = p.id WHERE p.amount <> coalesce(a.s, 0) + p.credit""",
    "charges whose amount_paid is not their live allocations": """
        SELECT count(*) FROM charge c LEFT JOIN (SELECT charge_id, sum(amount) s FROM allocation
          WHERE reversed_at IS NULL GROUP BY 1) a ON a.charge_id = c.id WHERE c.amount_paid <> coalesce(a.s, 0)""",
    "charges over-paid, or paid_at not matching": """
        SELECT count(*) FROM charge WHERE amount_paid > amount OR (amount_paid = amount) <> (paid_at IS NOT NULL)""",
    "payments without exactly one receipt": """
        SELECT count(*) FROM payment p WHERE (SELECT count(*) FROM receipt r WHERE r.payment_id = p.id) <> 1""",
    "receipt series with a gap or a duplicate": """
        SELECT count(*) FROM (SELECT estate_id, series, year, count(*) n, count(DISTINCT seq) d, min(seq) lo, max(seq) hi
          FROM receipt GROUP BY 1, 2, 3) x WHERE lo <> 1 OR hi <> n OR d <> n""",
    "counters not at the last number": """
        SELECT count(*) FROM (SELECT estate_id, series, year, max(seq) hi FROM receipt GROUP BY 1, 2, 3) x
          LEFT JOIN document_counter d USING (estate_id, series, year) WHERE d.last_seq IS DISTINCT FROM x.hi""",
    "handed-over sessions whose expected takings are not their receipts": """
        SELECT count(*) FROM cashier_session s CROSS JOIN unnest(ARRAY['cash', 'wechat', 'alipay', 'bank_card',
          'bank_transfer']) m WHERE s.status <> 'open' AND (s.expected ->> m)::numeric <> coalesce((
          SELECT sum(p.amount) FROM payment p JOIN receipt r ON r.payment_id = p.id AND r.status = 'issued'
          WHERE p.cashier_session_id = s.id AND p.method = m), 0)""",
    "sessions open in the past or handed over today": """
        SELECT count(*) FROM cashier_session WHERE (status = 'open') <> (day >= (now() AT TIME ZONE 'Asia/Shanghai')::date)""",
    "orders whose stamps do not match their state": """
        SELECT count(*) FROM work_order WHERE
          (status IN ('completed', 'callback_done', 'approved', 'archived')) <> (completed_at IS NOT NULL)
          OR (status IN ('callback_done', 'approved', 'archived')) <> (callback_done_at IS NOT NULL)
          OR (status IN ('approved', 'archived')) <> (approved_at IS NOT NULL)
          OR (status = 'archived') <> (archived_at IS NOT NULL) OR (status = 'cancelled') <> (cancelled_at IS NOT NULL)
          OR (status IN ('pending_dispatch', 'cancelled')) <> (technician_id IS NULL)""",
    "completed orders without their voucher and callback": """
        SELECT count(*) FROM work_order w WHERE w.completed_at IS NOT NULL AND (
          (SELECT count(*) FROM voucher v WHERE v.work_order_id = w.id) <> 1
          OR (SELECT count(*) FROM callback c WHERE c.work_order_id = w.id) <> 1)""",
    "callbacks closed while their order waits for one": """
        SELECT count(*) FROM callback c JOIN work_order w ON w.id = c.work_order_id
        WHERE (c.status IN ('done', 'resolved')) <> (w.status IN ('callback_done', 'approved', 'archived'))""",
    "approved or archived orders without an approved line": """
        SELECT count(*) FROM work_order w WHERE w.status IN ('approved', 'archived') AND NOT EXISTS (
          SELECT 1 FROM approval_line l WHERE l.work_order_id = w.id AND l.decision = 'approved')""",
    "stock books not at their last movement's balance": """
        SELECT count(*) FROM stock_item i WHERE i.quantity <> coalesce((SELECT m.balance_after FROM stock_movement m
          WHERE m.stock_item_id = i.id ORDER BY m.at DESC, m.id DESC LIMIT 1), 0)""",
}


async def test_a_tiny_company_keeps_the_rules_and_the_desk_carries_on(database_url: str, client, tmp_path: Path) -> None:
    args = cli.parse_args(["--scale", str(SCALE), "--jobs", "0", "--no-vacuum"])
    summary = await cli.load(database_url, args, tmp_path / "indexes.sql")
    assert summary["estates"] == 1

    conn = await asyncpg.connect(db.dsn(database_url))
    try:
        for table, full in TARGETS.items():
            rows = await conn.fetchval(f"SELECT count(*) FROM {table}")
            assert 0.8 * full * SCALE <= rows <= 1.2 * full * SCALE, (table, rows)
        broken = {name: n for name, sql in CHECKS.items() if (n := await conn.fetchval(sql))}
        assert broken == {}
        # Every index set aside is back (the unique ones checked the rows as they were rebuilt).
        assert await conn.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname = 'uq_receipt_estate_id_number'") == 1
        unit_id, due = await conn.fetchrow("""
            SELECT unit_id, sum(amount - amount_paid) FROM charge WHERE amount_paid < amount
            GROUP BY unit_id ORDER BY min(due_date), unit_id LIMIT 1""")
        year = await conn.fetchval("SELECT extract(year FROM now() AT TIME ZONE 'Asia/Shanghai')::int")
        last = await conn.fetchval("SELECT coalesce(max(last_seq), 0) FROM document_counter WHERE series = 'receipt' "
                                   "AND year = $1", year)
    finally:
        await conn.close()

    login = await client.post("/api/v1/auth/login", json={"username": "e001.reception1", "password": "propdesk-bench"})
    assert login.status_code == 200, login.text
    paid = await client.post(f"/api/v1/units/{unit_id}/payments",
                             json={"settle": "oldest_first", "amount": str(due), "method": "cash"},
                             headers={"Authorization": f"Bearer {login.json()['access_token']}",
                                      "Idempotency-Key": str(uuid.uuid4())})
    assert paid.status_code == 201, paid.text
    assert paid.json()["receipt"]["number"] == f"E001-{year}-{last + 1:06d}"
    assert Decimal(paid.json()["credit"]) == 0
