"""nightly_backup: the whole company's database and uploads, archived every night, the last N kept.

The archive is `propdesk backup`'s; the run's summary (file, size, seconds, rows) is what
GET /jobs shows. An office PC switched off at night gets the backup it missed when it starts
(the clock's catch-up), so the job is company-wide and daily.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import backup
from app.config import get_settings
from app.domain.calendar.estate_time import DAILY
from app.jobs.registry import JobSpec

PREFIX = "propdesk-nightly-"


async def nightly_backup(session: AsyncSession, *, estate: Any, period: str) -> dict[str, Any]:
    """Archive the database this run is connected to, then prune to the newest `backup_keep`."""
    settings = get_settings()
    if settings.backup_keep <= 0:
        return {"skipped": "backup_keep is 0: nightly backups are off"}
    DAILY.parse(period)
    url = (await session.connection()).engine.url.render_as_string(hide_password=False)
    directory = settings.backup_dir or settings.data_dir / "backups"
    result = await backup.backup(url=url, upload_dir=settings.upload_dir, target=directory / f"{PREFIX}{period}.tar")
    pruned = backup.prune(directory, prefix=PREFIX, keep=settings.backup_keep)
    return {
        "file": str(result.path), "bytes": result.bytes, "seconds": round(result.seconds, 2),
        "rows": sum(result.manifest["row_counts"].values()), "files": result.manifest["files"],
        "revision": result.manifest["revision"], "pruned": [p.name for p in pruned],
    }


SPECS: list[JobSpec] = [
    JobSpec(name="nightly_backup", cron="40 2 * * *", period_of=DAILY, per_estate=False, func=nightly_backup,
            description="Archive the database and uploaded files; keep the newest PROPDESK_BACKUP_KEEP"),
]
