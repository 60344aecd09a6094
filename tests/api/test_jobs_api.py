"""GET /jobs, GET /jobs/runs, GET /jobs/{name}, POST /jobs/{name}/run: permissions, scoping, outcomes."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.jobs.model import JobRun
from app.jobs.registry import JOBS
from tests.factories import make_company, make_estate, make_staff
from tests.helpers.jobs import TICK
from tests.helpers.problems import assert_422

JOBS_URL = "/api/v1/jobs"
RUNS_URL = "/api/v1/jobs/runs"
PROBLEM = "application/problem+json"


@pytest.fixture
def tick_job(monkeypatch):
    monkeypatch.setitem(JOBS, TICK.name, TICK)


@pytest.fixture
async def office(session):
    """An estate with an admin, a supervisor and a receptionist; another company's estate beside it."""
    company = await make_company(session)
    here = await make_estate(session, company=company)
    elsewhere = await make_estate(session)
    staff = {role: await make_staff(session, estates=[here], roles=[role])
             for role in (Role.admin, Role.supervisor, Role.receptionist)}
    return here, elsewhere, staff


async def _count(app, model, *where) -> int:
    async with app.state.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


def _problem(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"] == f"/problems/{code}"


class TestListJobs:
    async def test_anonymous_is_401(self, client):
        _problem(await client.get(JOBS_URL), 401, "invalid-token")

    async def test_receptionist_is_403(self, client, office):
        _problem(await client.get(JOBS_URL, headers=office[2][Role.receptionist].headers), 403, "forbidden")

    async def test_lists_schedule_next_runs_and_recent_runs(self, client, office, tick_job):
        here, elsewhere, staff = office
        admin = staff[Role.admin]
        assert (await client.post(f"{JOBS_URL}/purge_expired/run", headers=admin.headers)).status_code == 200
        r = await client.get(JOBS_URL, headers=admin.headers)
        assert r.status_code == 200, r.text
        jobs = {j["name"]: j for j in r.json()["items"]}
        assert r.json()["total"] == len(JOBS)
        purge, tick = jobs["purge_expired"], jobs[TICK.name]
        assert purge["per_estate"] is False and purge["period_kind"] == "hour"
        assert [(n["estate_id"], n["time_zone"]) for n in purge["next_runs"]] == [(None, "Asia/Shanghai")]
        [run] = purge["recent_runs"]
        assert run["status"] == "succeeded" and run["trigger"] == "manual" and run["duration_ms"] >= 0
        # Next runs only in the caller's estates, at 17:00 local.
        [next_run] = tick["next_runs"]
        assert next_run["estate_id"] == str(here.id) and next_run["at"].endswith("17:00:00+08:00")
        assert next_run["period"] == next_run["at"][:10] and tick["recent_runs"] == []

    async def test_supervisor_reads_but_sees_no_company_wide_runs(self, client, office):
        _, _, staff = office
        await client.post(f"{JOBS_URL}/purge_expired/run", headers=staff[Role.admin].headers)
        r = await client.get(JOBS_URL, headers=staff[Role.supervisor].headers)
        assert r.status_code == 200
        assert {j["name"]: j for j in r.json()["items"]}["purge_expired"]["recent_runs"] == []

    async def test_bad_sort_and_page_are_422(self, client, office):
        admin = office[2][Role.admin]
        _problem(await client.get(JOBS_URL, params={"sort": "cron"}, headers=admin.headers), 422, "unknown-sort-key")
        _problem(await client.get(JOBS_URL, params={"limit": 10_000}, headers=admin.headers), 422, "validation-failed")


class TestGetJob:
    async def test_anonymous_is_401(self, client):
        _problem(await client.get(f"{JOBS_URL}/purge_expired"), 401, "invalid-token")

    async def test_receptionist_is_403(self, client, office):
        _problem(await client.get(f"{JOBS_URL}/purge_expired", headers=office[2][Role.receptionist].headers), 403, "forbidden")

    async def test_one_job_and_unknown_name(self, client, office):
        admin = office[2][Role.admin]
        r = await client.get(f"{JOBS_URL}/purge_expired", headers=admin.headers)
        assert r.status_code == 200 and r.json()["cron"] == JOBS["purge_expired"].cron
        _problem(await client.get(f"{JOBS_URL}/no_such_job", headers=admin.headers), 404, "unknown-job")
        _problem(await client.get(f"{JOBS_URL}/Bad%00Name", headers=admin.headers), 422, "validation-failed")


class TestRunJob:
    async def test_anonymous_is_401(self, client, app):
        _problem(await client.post(f"{JOBS_URL}/purge_expired/run"), 401, "invalid-token")
        assert await _count(app, JobRun) == 0

    @pytest.mark.parametrize("role", [Role.receptionist, Role.supervisor])
    async def test_only_admin_may_run(self, client, app, office, role):
        _problem(await client.post(f"{JOBS_URL}/purge_expired/run", headers=office[2][role].headers), 403, "forbidden")
        assert await _count(app, JobRun) == 0

    async def test_admin_runs_once_then_skips_then_forces(self, client, app, office):
        admin = office[2][Role.admin]
        url = f"{JOBS_URL}/purge_expired/run"
        body = {"period": "2026-11-28T17"}
        [first] = (await client.post(url, json=body, headers=admin.headers)).json()
        [again] = (await client.post(url, json=body, headers=admin.headers)).json()
        r = await client.post(url, json={**body, "force": True}, headers=admin.headers)
        assert r.status_code == 200, r.text
        [forced] = r.json()
        assert first["status"] == "succeeded" and first["summary"] == {
            "deleted": {"auth_tokens": 0, "idempotency_records": 0, "rate_limit_hits": 0, "stream_tickets": 0}
        }
        assert (again["status"], again["reason"]) == ("skipped", "already succeeded")
        assert forced["status"] == "succeeded" and forced["run_id"] == first["run_id"]
        async with app.state.sessionmaker() as s:
            trail = list((await s.execute(select(AuditEntry).where(AuditEntry.action == "job.run").order_by(AuditEntry.id))).scalars())
        assert [(e.actor_id, e.entity_id, e.after["status"]) for e in trail] == [
            (admin.id, "purge_expired", "succeeded"),
            (admin.id, "purge_expired", "skipped"),
            (admin.id, "purge_expired", "succeeded"),
        ]
        assert trail[2].after["force"] is True

    async def test_per_estate_job_runs_only_in_the_callers_estates(self, client, app, office, tick_job):
        here, elsewhere, staff = office
        r = await client.post(f"{JOBS_URL}/{TICK.name}/run", json={"period": "2026-11-28"}, headers=staff[Role.admin].headers)
        assert r.status_code == 200, r.text
        assert [(o["estate_id"], o["status"]) for o in r.json()] == [(str(here.id), "succeeded")]
        assert await _count(app, JobRun, JobRun.estate_id == elsewhere.id) == 0
        [entry] = [e for e in await _audit(app) if e.entity_id == TICK.name]
        assert entry.estate_id == here.id

    async def test_another_companys_estate_is_404(self, client, app, office, tick_job):
        _, elsewhere, staff = office
        for estate_id in (elsewhere.id, uuid.uuid4()):
            r = await client.post(f"{JOBS_URL}/{TICK.name}/run", json={"estate_id": str(estate_id)}, headers=staff[Role.admin].headers)
            _problem(r, 404, "job-estate-not-found")
        assert await _count(app, JobRun) == 0

    async def test_unknown_job_is_404(self, client, app, office):
        _problem(await client.post(f"{JOBS_URL}/no_such_job/run", headers=office[2][Role.admin].headers), 404, "unknown-job")
        assert await _count(app, JobRun) == 0 and await _audit(app) == []

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"period": "2026-11-28"}, "invalid-period"),  # purge's periods are hours
            ({"period": "2026\x00-11"}, "validation-failed"),
            ({"period": "x" * 21}, "validation-failed"),
            ({"estate_id": "not-a-uuid"}, "validation-failed"),
            ({"force": "perhaps"}, "validation-failed"),
            ({"when": "now"}, "validation-failed"),
        ],
    )
    async def test_bad_input_is_422_and_runs_nothing(self, client, app, office, body, code):
        r = await client.post(f"{JOBS_URL}/purge_expired/run", json=body, headers=office[2][Role.admin].headers)
        _problem(r, 422, code)
        assert await _count(app, JobRun) == 0 and await _audit(app) == []

    async def test_estate_for_a_company_wide_job_is_422(self, client, app, office):
        here, _, staff = office
        r = await client.post(f"{JOBS_URL}/purge_expired/run", json={"estate_id": str(here.id)}, headers=staff[Role.admin].headers)
        _problem(r, 422, "company-wide-job")
        assert await _count(app, JobRun) == 0


class TestListRuns:
    async def test_anonymous_is_401(self, client):
        _problem(await client.get(RUNS_URL), 401, "invalid-token")

    async def test_receptionist_is_403(self, client, office):
        _problem(await client.get(RUNS_URL, headers=office[2][Role.receptionist].headers), 403, "forbidden")

    async def test_runs_of_another_company_stay_hidden(self, client, app, session, office, tick_job):
        here, elsewhere, staff = office
        stranger = await make_staff(session, estates=[elsewhere], roles=[Role.admin])
        for who in (staff[Role.admin], stranger):
            await client.post(f"{JOBS_URL}/{TICK.name}/run", json={"period": "2026-11-28"}, headers=who.headers)
        r = await client.get(RUNS_URL, params={"job": TICK.name}, headers=staff[Role.supervisor].headers)
        assert r.status_code == 200, r.text
        assert [(i["estate_id"], i["period"], i["status"]) for i in r.json()["items"]] == [(str(here.id), "2026-11-28", "succeeded")]
        r = await client.get(RUNS_URL, params={"estate_id": str(elsewhere.id)}, headers=staff[Role.admin].headers)
        assert r.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}

    async def test_filters_and_sort(self, client, office, tick_job):
        admin = office[2][Role.admin]
        for period in ("2026-11-26", "2026-11-27"):
            await client.post(f"{JOBS_URL}/{TICK.name}/run", json={"period": period}, headers=admin.headers)
        await client.post(f"{JOBS_URL}/purge_expired/run", headers=admin.headers)
        r = await client.get(RUNS_URL, params={"job": TICK.name, "status": "succeeded", "sort": "period"}, headers=admin.headers)
        assert [i["period"] for i in r.json()["items"]] == ["2026-11-26", "2026-11-27"]
        r = await client.get(RUNS_URL, params={"period": "2026-11-27"}, headers=admin.headers)
        assert r.json()["total"] == 1
        r = await client.get(RUNS_URL, headers=admin.headers)
        assert r.json()["total"] == 3 and r.json()["items"][0]["job"] == "purge_expired"  # newest first

    @pytest.mark.parametrize(
        "params", [{"status": "sleeping"}, {"job": "x" * 61}, {"estate_id": "nope"}, {"period": "bad\x00"}, {"sort": "error"}]
    )
    async def test_bad_filters_are_422(self, client, office, params):
        r = await client.get(RUNS_URL, params=params, headers=office[2][Role.admin].headers)
        assert r.status_code == 422, r.text
        assert_422(r, next(iter(params)))
        assert r.headers["content-type"].startswith(PROBLEM)


async def _audit(app) -> list[AuditEntry]:
    async with app.state.sessionmaker() as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.action == "job.run"))).scalars())
