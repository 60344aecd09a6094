"""bench/plans.py reads a plan the way PostgreSQL writes it: every sequential scan, however deep,
with its table; index scans and scans under other nodes' names are not taken for one."""
from __future__ import annotations

import json

from sqlalchemy import text

from bench.plans import seq_scans


async def test_a_real_plan_of_a_join_by_id_alone_shows_the_whole_table_scan(session):
    # Planner settings force the shape the bench looks for: a hash join that reads `unit` whole.
    for setting in ("enable_indexscan", "enable_bitmapscan"):
        await session.execute(text(f"SET LOCAL {setting} = off"))
    [[plan]] = (await session.execute(text(
        "EXPLAIN (FORMAT JSON) SELECT w.id, u.number FROM work_order w JOIN service_request r ON r.id = w.request_id "
        "LEFT JOIN unit u ON u.id = w.unit_id WHERE w.estate_id = gen_random_uuid()"))).all()
    found = seq_scans((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    assert {"unit", "service_request", "work_order"} <= {table for table, _ in found}


def test_index_scans_and_nested_nodes():
    plan = {"Node Type": "Nested Loop", "Plans": [
        {"Node Type": "Index Scan", "Relation Name": "work_order", "Plan Rows": 50},
        {"Node Type": "Hash", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "unit", "Plan Rows": 200000}]},
        {"Node Type": "Bitmap Heap Scan", "Relation Name": "charge", "Plan Rows": 10},
    ]}
    assert seq_scans(plan) == [("unit", 200000)]
    assert seq_scans({"Node Type": "Result"}) == []
