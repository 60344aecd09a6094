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
from tests.helpers.late_fees import API, Late, late, late_fees_on, pay

# 2026-10-31 23:00 in Shanghai: the month-end job's time.
MONTH_END = datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def test_fires_on_the_months_last_day_at_23_local_before_the_report():
    spec = JOBS["month_end_late_fees"]
    [last] = recent_fire_times(spec.trigger("Asia/Shanghai"), now=datetime(2026, 11, 15, tzinfo=UTC), count=1)
    assert last.astimezone(UTC) == MONTH_END
    assert spec.period_of(datetime(2026, 10, 31, 23)) == "2026-10"


async def waive(client, session, w: Late, charge: Charge, *, kind: str, value: str, reason: str = "业主投诉处理补偿") -> dict:
    """The desk asks for a waiver on `charge`, a supervisor approves it: through the waivers' endpoints."""
    r = await client.post(f"{API}/charges/{charge.id}/waivers", json={"kind": kind, "value": value, "reason": reason},
                          headers=w.desk.headers)
    assert r.status_code == 201, r.text
    supervisor = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
    r = await client.post(f"{API}/waivers/{r.json()['id']}/approve", json={"reason": "主管同意"}, headers=supervisor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    return r.json()


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
    # Still 10-31 in Shanghai: the desk asks to waive October's month-end late fee (100% of 2.23), the supervisor approves.
    [octo_fee] = await late_fees_on(session, w.october)
    waiver = await waive(client, session, w, octo_fee, kind="percentage", value="100")
    assert waiver["amount"] == "2.23"
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


async def test_waiving_a_late_fee_the_bill_the_receipt_and_the_months_it_counts_in(app, client, session, time_machine):
    w, _ = await month_end(app, session, time_machine)
    [sep_fee] = await late_fees_on(session, w.september)
    [octo_fee] = await late_fees_on(session, w.october)
    # 10-31 (Shanghai): 30% off September's late fee: 5.58 × 30% = 1.674 -> 1.67; 5.58 − 1.67 = 3.91 still owed.
    sep_waiver = await waive(client, session, w, sep_fee, kind="percentage", value="30", reason="维修延误补偿")
    assert (sep_waiver["amount"], sep_waiver["charge_id"]) == ("1.67", str(sep_fee.id))
    [sep_fee] = await late_fees_on(session, w.september)
    assert (str(sep_fee.amount), str(sep_fee.amount_waived), str(sep_fee.outstanding)) == ("5.58", "1.67", "3.91")
    # 11-10: all of October's late fee (2.23 yuan), approved in November.
    time_machine.move_to(LATER, tick=True)
    w.desk = await make_staff(session, estates=[w.estate], roles=[Role.receptionist])
    assert (await waive(client, session, w, octo_fee, kind="amount", value="2.23"))["amount"] == "2.23"

    # The bill: each late-fee line keeps its posted amount and says what was waived and why.
    r = await client.get(f"{API}/units/{w.unit.id}/bill", params={"from": "2026-09", "to": "2026-11"}, headers=w.desk.headers)
    assert r.status_code == 200, r.text
    lines = {ln["charge_id"]: ln for ln in r.json()["lines"]}
    sep_line, octo_line = lines[str(sep_fee.id)], lines[str(octo_fee.id)]
    assert (sep_line["source"], sep_line["amount"], sep_line["paid"], sep_line["waived"], sep_line["outstanding"]) == (
        "late_fee", "5.58", "0.00", "1.67", "3.91")
    assert [x["text"] for x in sep_line["waivers"]] == ["减免 1.67元（维修延误补偿）"]
    assert (octo_line["amount"], octo_line["waived"], octo_line["outstanding"]) == ("2.23", "2.23", "0.00")
    # 223.00 × 2 + 7.81 = 453.81 billed; 1.67 + 2.23 = 3.90 waived; 453.81 − 3.90 = 449.91 outstanding.
    assert {k: r.json()["totals"][k] for k in ("billed", "paid", "waived", "outstanding")} == {
        "billed": "453.81", "paid": "0.00", "waived": "3.90", "outstanding": "449.91"}

    # Paying everything on 11-10 posts what accrued beyond what was posted (waived or not): September
    # 6.69 − 5.58 = 1.11, October 3.35 − 2.23 = 1.12. 223.00 + 3.91 + 1.11 + 223.00 + 1.12 = 452.14.
    r = await pay(client, w, "452.14")
    assert r.status_code == 201, r.text
    assert r.json()["credit"] == "0.00"
    allocations = {a["charge_id"]: a for a in r.json()["receipt"]["allocations"]}
    assert str(octo_fee.id) not in allocations  # waived in full: nothing to pay
    assert {k: allocations[str(sep_fee.id)][k] for k in ("billed", "waived", "amount")} == {
        "billed": "5.58", "waived": "1.67", "amount": "3.91"}
    finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])

    async def report(month: str) -> dict:
        r = await client.get(f"{API}/estates/{w.estate.id}/fee-reports/month-end", params={"month": month}, headers=finance.headers)
        assert r.status_code == 200, r.text
        return r.json()

    october = await report("2026-10")
    # Only the waiver approved in October counts in October: 7.81 posted, 1.67 waived, 7.81 − 1.67 = 6.14 unpaid at its end.
    assert october["late_fees"] == {"billed": "7.81", "collected": "0.00", "waived": "1.67", "outstanding": "6.14"}
    # October's charges: its management fee 223.00 and the two late fees posted on 10-31, 7.81: 230.81;
    # 230.81 − 1.67 = 229.14 unpaid at the month's end, the rate on 229.14 (nothing collected in October).
    totals = october["totals"]
    assert {k: totals[k] for k in ("billed", "waived", "collected_for_month", "outstanding", "collection_rate")} == {
        "billed": "230.81", "waived": "1.67", "collected_for_month": "0.00", "outstanding": "229.14",
        "collection_rate": "0.0000"}
    [mgmt] = october["by_fee_item"]
    assert (mgmt["billed"], mgmt["waived"], mgmt["outstanding"]) == ("230.81", "1.67", "229.14")
    # November: 1.11 + 1.12 = 2.23 posted and paid; collected 3.91 + 1.11 + 1.12 = 6.14 of late fees. October's
    # late fee waived in November was posted in October: not a November late fee.
    assert (await report("2026-11"))["late_fees"] == {
        "billed": "2.23", "collected": "6.14", "waived": "0.00", "outstanding": "0.00"}


async def test_a_reversed_late_fee_waiver_is_owed_again_and_counts_nowhere(app, client, session, time_machine):
    w, _ = await month_end(app, session, time_machine)
    [octo_fee] = await late_fees_on(session, w.october)
    waiver = await waive(client, session, w, octo_fee, kind="amount", value="2.23")
    supervisor = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
    r = await client.post(f"{API}/waivers/{waiver['id']}/reverse", json={"reason": "批错了"}, headers=supervisor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "reversed"
    [octo_fee] = await late_fees_on(session, w.october)
    assert (str(octo_fee.amount_waived), str(octo_fee.outstanding)) == ("0.00", "2.23")
    finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
    r = await client.get(f"{API}/estates/{w.estate.id}/fee-reports/month-end", params={"month": "2026-10"},
                         headers=finance.headers)
    assert r.json()["late_fees"] == {"billed": "7.81", "collected": "0.00", "waived": "0.00", "outstanding": "7.81"}
