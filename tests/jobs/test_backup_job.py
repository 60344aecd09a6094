"""nightly_backup: an archive per night in the data directory, the newest PROPDESK_BACKUP_KEEP kept,
its outcome shown by GET /jobs."""
from __future__ import annotations

import pytest

from app import backup
from app.config import get_settings
from app.domain.auth.roles import Role
from tests.factories import make_estate, make_staff


@pytest.fixture
def backup_settings(monkeypatch, tmp_path):
    # Jobs read the process's settings, as they do under the clock.
    monkeypatch.setenv("PROPDESK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PROPDESK_BACKUP_KEEP", "2")
    get_settings.cache_clear()
    yield tmp_path / "backups"
    get_settings.cache_clear()


async def test_nightly_backups_keep_the_newest_and_show_in_jobs(client, session, backup_settings):
    estate = await make_estate(session)
    admin = await make_staff(session, estates=[estate], roles=[Role.admin])
    await session.commit()
    for day in ("2026-12-01", "2026-12-02", "2026-12-03"):
        r = await client.post("/api/v1/jobs/nightly_backup/run", json={"period": day}, headers=admin.headers)
        assert r.status_code == 200, r.text
        [run] = r.json()
        assert run["status"] == "succeeded", run
    kept = sorted(p.name for p in backup_settings.iterdir())
    assert kept == ["propdesk-nightly-2026-12-02.tar", "propdesk-nightly-2026-12-03.tar"]
    assert run["summary"]["pruned"] == ["propdesk-nightly-2026-12-01.tar"]
    manifest = backup.read_manifest(backup_settings / kept[-1])
    assert manifest["row_counts"]["estate"] == 1 and manifest["row_counts"]["user"] == 1

    jobs = {j["name"]: j for j in (await client.get("/api/v1/jobs", headers=admin.headers)).json()["items"]}
    nightly = jobs["nightly_backup"]
    assert nightly["per_estate"] is False and nightly["cron"] == "40 2 * * *"
    latest = nightly["recent_runs"][0]
    assert latest["status"] == "succeeded" and latest["summary"]["file"].endswith("propdesk-nightly-2026-12-03.tar")
    assert latest["summary"]["bytes"] == (backup_settings / kept[-1]).stat().st_size


async def test_keep_zero_turns_nightly_backups_off(client, session, backup_settings, monkeypatch):
    monkeypatch.setenv("PROPDESK_BACKUP_KEEP", "0")
    get_settings.cache_clear()
    estate = await make_estate(session)
    admin = await make_staff(session, estates=[estate], roles=[Role.admin])
    await session.commit()
    [run] = (await client.post("/api/v1/jobs/nightly_backup/run", json={"period": "2026-12-01"},
                               headers=admin.headers)).json()
    assert run["status"] == "succeeded" and "off" in run["summary"]["skipped"]
    assert not backup_settings.exists()
