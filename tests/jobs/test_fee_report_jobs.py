"""The fee report jobs: each runs for the period the office means and stores its report once per
period (a forced re-run replaces it); the stored reports are listed and fetched as JSON, CSV, XLSX."""
from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import openpyxl
import pytest
from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.fees.reports.model import FeeReport
from app.jobs.registry import JOBS, InvalidPeriod
from app.jobs.runner import recent_fire_times, run_job
from tests.factories import make_staff
from tests.helpers.fee_reports import API, api_key_headers, local, november, week48
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows

SHANGHAI = "Asia/Shanghai"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_schedules_in_the_estates_time_zone():
    def fires(name: str, now: datetime) -> datetime:
        [last] = recent_fire_times(JOBS[name].trigger(SHANGHAI), now=now, count=1)
        return last.astimezone(UTC)

    assert fires("saturday_register", utc(2026, 12, 1)) == utc(2026, 11, 28, 4)  # Saturday 12:00 local
    assert fires("month_end_fee_report", utc(2026, 12, 5)) == utc(2026, 11, 30, 15, 30)  # 30 Nov 23:30 local
    assert fires("month_end_fee_report", utc(2026, 3, 5)) == utc(2026, 2, 28, 15, 30)
    assert fires("month_end_fee_report", utc(2024, 3, 5)) == utc(2024, 2, 29, 15, 30)  # leap year


def test_periods():
    week = JOBS["saturday_register"].period_of
    assert week(datetime(2026, 11, 28, 12)) == "2026-W48"  # the week that ended last night
    assert week(datetime(2026, 11, 25, 9)) == "2026-W47"  # by hand mid-week: the last finished week
    assert week(datetime(2027, 1, 2, 12)) == "2026-W53"
    assert JOBS["month_end_fee_report"].period_of(datetime(2026, 11, 30, 23, 30)) == "2026-11"


async def test_saturday_register_job_stores_the_week_once(app, client, session):
    b = await week48(session)
    sm = app.state.sessionmaker
    saturday_noon = utc(2026, 11, 28, 4)
    [first] = await run_job(sm, "saturday_register", estate_id=b.estate.id, now=saturday_noon)
    [again] = await run_job(sm, "saturday_register", estate_id=b.estate.id, now=saturday_noon)
    assert (first.period, first.status, first.summary["lines"], first.summary["total"]) == ("2026-W48", "succeeded", 6, "691.12")
    assert (again.status, again.reason) == ("skipped", "already succeeded")
    row = (await session.execute(select(FeeReport))).scalar_one()
    assert (row.kind, row.period, row.produced_by, str(row.total)) == ("saturday_register", "2026-W48", "job:saturday_register", "691.12")
    # A receipt voided after the hand-over changes the live register, not the stored one ...
    last = (await client.get(f"{API}/estates/{b.estate.id}/fee-reports/saturday-register?week=2026-W48",
                             headers=b.reader.headers)).json()["lines"][-1]
    await b.void(session, uuid.UUID(last["receipt_id"]), local(2026, 11, 30, 9))
    stored = (await client.get(f"{API}/fee-reports/{row.id}", headers=b.reader.headers)).json()
    assert stored["saturday_register"]["grand_total"] == "691.12" and stored["month_report"] is None
    # ... until a forced re-run replaces it: still one report for the week.
    [forced] = await run_job(sm, "saturday_register", estate_id=b.estate.id, period="2026-W48", force=True)
    assert forced.summary["total"] == "530.56"
    assert await count_rows(session, FeeReport) == 1
    stored = (await client.get(f"{API}/fee-reports/{row.id}", headers=b.reader.headers)).json()
    assert stored["saturday_register"]["grand_total"] == "530.56" and stored["total"] == "530.56"


async def test_month_end_job_stores_the_month(app, client, session):
    b = await november(session)
    sm = app.state.sessionmaker
    [run] = await run_job(sm, "month_end_fee_report", estate_id=b.estate.id, now=utc(2026, 11, 30, 15, 30))
    assert (run.period, run.status, run.summary["collected"]) == ("2026-11", "succeeded", "710.56")
    listed = (await client.get(f"{API}/estates/{b.estate.id}/fee-reports", headers=b.reader.headers)).json()
    assert listed["total"] == 1
    [item] = listed["items"]
    assert (item["kind"], item["period"], item["total"], item["produced_by"]) == ("month_end", "2026-11", "710.56",
                                                                                 "job:month_end_fee_report")
    detail = (await client.get(f"{API}/fee-reports/{item['id']}", headers=b.reader.headers)).json()
    live = (await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end?month=2026-11", headers=b.reader.headers)).json()
    assert detail["saturday_register"] is None
    assert {k: v for k, v in detail["month_report"].items() if k != "as_of"} == {k: v for k, v in live.items() if k != "as_of"}
    r = await client.get(f"{API}/fee-reports/{item['id']}?format=xlsx", headers=b.reader.headers)
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith(f'attachment; filename="month-fee-report-{b.estate.code}-2026-11.xlsx"; filename*=')
    check = [c.value for c in openpyxl.load_workbook(io.BytesIO(r.content))["收据核对"][2]]
    assert str(check[0]) == "710.56"
    r = await client.get(f"{API}/fee-reports/{item['id']}?format=csv", headers=b.reader.headers)
    assert r.content.startswith(b"\xef\xbb\xbf") and r.headers["content-type"] == "text/csv; charset=utf-8"


async def test_listing_filters_and_access(app, client, session):
    b = await november(session)
    sm = app.state.sessionmaker
    await run_job(sm, "month_end_fee_report", estate_id=b.estate.id, period="2026-11")
    await run_job(sm, "saturday_register", estate_id=b.estate.id, period="2026-W48")
    await run_job(sm, "saturday_register", estate_id=b.other.id, period="2026-W48")
    url = f"{API}/estates/{b.estate.id}/fee-reports"

    async def periods(**params) -> list[str]:
        r = await client.get(url, params=params, headers=b.reader.headers)
        assert r.status_code == 200, r.text
        return sorted(x["period"] for x in r.json()["items"])

    assert await periods() == ["2026-11", "2026-W48"]
    assert await periods(kind="saturday_register") == ["2026-W48"]
    assert await periods(period="2026-11") == ["2026-11"]
    theirs = (await session.execute(select(FeeReport.id).where(FeeReport.estate_id == b.other.id))).scalar_one()
    assert (await client.get(f"{API}/fee-reports/{theirs}", headers=b.reader.headers)).status_code == 404
    assert (await client.get(f"{API}/fee-reports/{theirs}?format=xlsx", headers=b.reader.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get(f"{API}/fee-reports/{theirs}")).status_code == 401
    # The desk compiles the reports (§5.5, §5.8): it reads its estate's, not another's; a technician none.
    desk = await make_staff(session, estates=[b.estate], roles=[Role.receptionist])
    r = await client.get(url, headers=desk.headers)
    assert r.status_code == 200 and r.json()["total"] == 2
    r = await client.get(f"{API}/fee-reports/{theirs}", headers=desk.headers)
    assert r.status_code == 404 and r.json()["type"] == "/problems/fee-report-not-found"
    technician = await make_staff(session, estates=[b.estate], roles=[Role.technician])
    assert (await client.get(url, headers=technician.headers)).status_code == 403
    assert (await client.get(f"{API}/fee-reports/{theirs}", headers=technician.headers)).status_code == 403
    stranger = await make_staff(session, estates=[b.other], roles=[Role.finance])
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    for bad in ({"period": "2026-13x"}, {"kind": "weekly"}, {"sort": "body"}, {"limit": "0"}):
        r = await client.get(url, params=bad, headers=b.reader.headers)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", bad
        assert_422(r, next(iter(bad)))
    key = api_key_headers(session, b.estate, ["fee_reports:read"])
    await session.commit()
    r = await client.get(url, headers=key)
    assert r.status_code == 200 and r.json()["total"] == 2
    report_id = r.json()["items"][0]["id"]
    assert (await client.get(f"{API}/fee-reports/{report_id}", headers=key)).status_code == 200


async def test_a_bad_period_is_refused_before_running(app, session):
    b = await november(session)
    sm = app.state.sessionmaker
    for name, period in (("saturday_register", "2025-W53"), ("saturday_register", "2026-11"), ("month_end_fee_report", "2026-13")):
        with pytest.raises(InvalidPeriod):
            await run_job(sm, name, estate_id=b.estate.id, period=period)
    assert await count_rows(session, FeeReport) == 0


async def test_a_produced_report_is_announced(session, app):
    """Integrations hear report.ready in the run's own transaction, and fetch the stored copy."""
    from sqlalchemy import select

    from app.domain.events.model import OutboxEvent
    from app.jobs import runner
    from tests.factories import make_estate

    estate = await make_estate(session)
    [result] = await runner.run_job(app.state.sessionmaker, "month_end_fee_report", estate_id=estate.id, period="2026-10")
    assert result.status == "succeeded", result
    [event] = (await session.execute(select(OutboxEvent).where(OutboxEvent.estate_id == estate.id))).scalars().all()
    assert event.type == "report.ready" and event.data == {"report": "month_end_fee_report", "job": "month_end_fee_report",
                                                            "period": "2026-10"}
