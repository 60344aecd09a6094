"""The service behind a real PgBouncer (Debian's package) in transaction pooling mode.

Each transaction may run on another server connection there: a statement prepared on one is
unknown on the next, a session-level lock or SET would stay behind on a connection someone else
gets, and PgBouncer refuses startup settings it does not track. The app's URL says
`?pooler=pgbouncer` (app/db.py); its locks are transaction-scoped; its event stream polls, it
never LISTENs. Checked by running the payment, cash-race, job-clock, webhook and stream suites
through one, and by many transactions on few server connections here.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from app.db import make_engine, with_database
from tests.helpers import pgbouncer

ROOT = Path(__file__).resolve().parents[2]
# What a pooler could break: money under concurrency, the clock's locks, deliveries, the stream.
THROUGH_THE_POOLER = [
    "tests/api/test_payments.py", "tests/api/test_cash_race.py", "tests/jobs/test_runner.py", "tests/jobs/test_clock.py",
    "tests/api/test_webhooks.py", "tests/api/test_stream.py",
]


def test_pgbouncer_is_installed():
    # scripts/test.sh installs it; a silent skip would let the pooler go unchecked.
    assert pgbouncer.available(), "install Debian's pgbouncer (scripts/test.sh does)"


async def test_many_transactions_on_few_server_connections_prepare_without_clashing(pg_server, database_url):
    name = urlsplit(database_url).path.lstrip("/")
    with pgbouncer.running(pg_server, Path(tempfile.mkdtemp(prefix="pgbouncer-"))) as port:
        engine = make_engine(with_database(pgbouncer.through(pg_server, port), name), pool_size=12)

        async def one(i: int) -> tuple[int, str, str]:
            async with engine.begin() as conn:
                # Transaction-scoped: released at commit, whichever server connection ran it.
                await conn.execute(text("SELECT pg_advisory_xact_lock(42)"))
                row = (await conn.execute(text("SELECT CAST(:i AS int), current_setting('TimeZone'), "
                                               "current_setting('application_name')"), {"i": i})).one()
                return int(row[0]), str(row[1]), str(row[2])
        try:
            answers = await asyncio.gather(*(one(i) for i in range(200)))
        finally:
            await engine.dispose()
    assert sorted(a[0] for a in answers) == list(range(200))
    assert {(a[1], a[2]) for a in answers} == {("UTC", "propdesk")}


# Six suites in a second pytest: far past the per-test default (pyproject's timeout).
@pytest.mark.timeout(900)
def test_the_money_jobs_webhooks_and_stream_suites_pass_through_pgbouncer():
    env = {**os.environ, "PROPDESK_TEST_POOLER": "pgbouncer"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", *THROUGH_THE_POOLER],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout.splitlines()[-1]
