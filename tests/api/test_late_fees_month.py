"""The month-end late-fee job and the month-end report's late-fee block, hand-checked."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, ChargeSource
from app.jobs.registry import JOBS
from app.jobs.runner import recent_fire_times, run_job
from tests.factories import make_staff
from tests.helpers.late_fees import API, late, late_fees_on, pay

# 2026-10-31 23:00 in Shanghai: the month-end job's time.
MONTH_END = datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def test_fires_on_the_months_last_day_at_23_local_before_the_report():
    spec = JOBS["month_end_late_fees"]
    [last] = recent_fire_times(spec.trigger("Asia/Shanghai"), now=datetime(2026, 11, 15, tzinfo=UTC), count=1)
    assert last.astimezone(UTC) == MONTH_END
    assert spec.period_of(datetime(2026, 10, 31, 23)) == "2026-10"


async def month_end(app, session, time_machine):
    time_machine.move_to(MONTH_END, tick=True)
    w = await late(session)
    [run] = await run_job(app.state.sessionmaker, "month_end_late_fees", estate_id=w.estate.id, now=MONTH_END)
    return w, run


async def test_posts_on_unpaid_overdue_charges_once(app, client, session, time_machine):
    w, run = await month_end(app, session, time_machine)
    # As of 10-31, grace 10 days: September 10-31 − 09-11 = 50 days: 223.00 × 0.0005 × 50 = 5.575 -> 5.58;
    # October 10-31 − 10-11 = 20 days: 223.00 × 0.0005 × 20 = 2.23. 5.58 + 2.23 = 7.81.
    assert (run.status, run.period, run.summary["posted"], run.summary["total"]) == ("succeeded", "2026-10", 2, "7.81")
    [sep] = await late_fees_on(session, w.september)
    [octo] = await late_fees_on(session, w.october)
    assert (str(sep.amount), str(octo.amount), sep.description) == ("5.58", "2.23", "2026年9月物业管理费滞纳金")
    assert sep.due_date.isoformat() == octo.due_date.isoformat() == "2026-10-31"  # posted on the month's last day
    [again] = await run_job(app.state.sessionmaker, "month_end_late_fees", estate_id=w.estate.id, period="2026-10", force=True)
    assert (again.status, again.summary["posted"]) == ("succeeded", 0)
    count = (await session.execute(select(Charge).where(Charge.source == ChargeSource.late_fee.value))).scalars().all()
    assert len(count) == 2


async def test_the_report_shows_late_fees_billed_collected_waived_outstanding(app, client, session, time_machine):
    w, _ = await month_end(app, session, time_machine)
    # The desk waives October's month-end late fee (2.23), as an approved waiver leaves it.
    [octo_fee] = await late_fees_on(session, w.october)
    octo_fee.amount_waived = octo_fee.amount
    session.add(octo_fee)
    await session.commit()
    time_machine.move_to(LATER, tick=True)
    w.desk = await make_staff(session, estates=[w.estate], roles=[Role.receptionist])
    # 11-10: September 60 days: 6.69 accrued − 5.58 posted = 1.11; October 30 days: 3.35 − 2.23 = 1.12.
    # Paid: 223.00 + 5.58 + 1.11 + 223.00 + 1.12 = 453.81 (the waived 2.23 is owed no more).
    r = await pay(client, w, "453.81")
    assert r.status_code == 201, r.text
    assert r.json()["credit"] == "0.00"
    finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])

    async def block(month: str) -> dict:
        r = await client.get(f"{API}/estates/{w.estate.id}/fee-reports/month-end", params={"month": month}, headers=finance.headers)
        assert r.status_code == 200, r.text
        return r.json()["late_fees"]

    # October: 7.81 posted, nothing collected in October, 2.23 waived, 7.81 − 2.23 = 5.58 unpaid at its end.
    assert await block("2026-10") == {"billed": "7.81", "collected": "0.00", "waived": "2.23", "outstanding": "5.58"}
    # November: 1.11 + 1.12 = 2.23 posted; collected 5.58 + 1.11 + 1.12 = 7.81; nothing waived or left.
    assert await block("2026-11") == {"billed": "2.23", "collected": "7.81", "waived": "0.00", "outstanding": "0.00"}
    r = await client.get(f"{API}/estates/{w.estate.id}/fee-reports/month-end",
                         params={"month": "2026-10", "format": "csv"}, headers=finance.headers)
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    at = next(i for i, row in enumerate(rows) if row and row[0] == "本月计收滞纳金")
    assert rows[at + 1][:4] == ["7.81", "0.00", "2.23", "5.58"]
