"""What the clock runs: one JobSpec per job, declared in JOBS.

Adding an office job is one declaration here plus its function:

    JobSpec(name="cash_handover", cron="0 17 * * *", period_of=DAILY, func=cash.handover,
            description="Day's takings counted against receipts for finance (§5.4)")

`cron` is a standard crontab line (minute hour day month day-of-week) read in the
estate's time zone; day-of-week numbers mean what crontab means (0 or 7 = Sunday,
1 = Monday), and APScheduler's extras such as `last` for the day work too. The
function is `async def f(session, *, estate, period) -> dict`: it runs inside the run's
own transaction, flushes but never commits, and returns a JSON-able summary.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from app.domain.calendar.estate_time import DAILY, HOURLY, InvalidPeriod

# Re-exported: the period kinds used to live here, and callers still name them from the registry.
from app.domain.calendar.estate_time import MONTHLY as MONTHLY
from app.domain.calendar.estate_time import WEEKLY as WEEKLY
from app.domain.errors import Invalid, NotFound
from app.jobs import purge

JobFunc = Callable[..., Awaitable[dict[str, Any]]]


class UnknownJob(NotFound):
    title = "No job of that name"
    title_zh = "没有这个名称的定时任务"


class JobEstateNotFound(NotFound):
    title = "Estate not found"
    title_zh = "未找到该小区"


class CompanyWideJob(Invalid):
    title = "This job runs for the whole company; it takes no estate"
    title_zh = "该任务面向全公司运行，不指定小区"


_CRONTAB_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def cron_trigger(cron: str, tz: tzinfo | str) -> CronTrigger:
    """A CronTrigger for a crontab line, with crontab's day-of-week numbering.

    APScheduler 3 counts 0 as Monday (its issue 286); spelling the days out as names
    keeps "0 9 * * 1" a Monday, as anyone reading a crontab expects.
    """
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"cron needs 5 fields (minute hour day month day-of-week), got {cron!r}")
    minute, hour, day, month, dow = fields
    dow = re.sub(r"(?<![/\d])[0-7](?!\d)", lambda m: _CRONTAB_DAYS[int(m.group())], dow)
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=dow, timezone=tz)


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    name: str
    cron: str
    func: JobFunc
    period_of: Callable[[datetime], str] = DAILY
    per_estate: bool = True
    description: str = ""
    # How many of the most recent due periods start-up makes up when they never succeeded.
    catch_up: int = 1
    # The report the job produces, if any: its success is announced as a report.ready event.
    report: str | None = None

    def __post_init__(self) -> None:
        cron_trigger(self.cron, "UTC")  # a typo fails at import, not at 17:00

    def trigger(self, tz: tzinfo | str) -> CronTrigger:
        return cron_trigger(self.cron, tz)

    @property
    def period_kind(self) -> str:
        return getattr(self.period_of, "name", "custom")

    def check_period(self, period: str) -> None:
        parse = getattr(self.period_of, "parse", None)
        try:
            if parse is not None:
                parse(period)
            elif not period or len(period) > 20:
                raise ValueError(period)
        except ValueError as exc:
            pattern = getattr(self.period_of, "pattern", None)
            raise InvalidPeriod(f"{period!r} is not a period of {self.name}" + (f" (format {pattern})" if pattern else ""),
                                field="period") from exc


def _area_specs() -> list[JobSpec]:
    # Each area declares its jobs as SPECS in its own module under app/jobs/.
    from app.jobs import attendance, backup, callbacks, cash, channels, complaints, fee_reports, fees, repairs, stock

    return [*repairs.SPECS, *callbacks.SPECS, *fees.SPECS, *cash.SPECS, *fee_reports.SPECS,
            *complaints.SPECS, *stock.SPECS, *attendance.SPECS, *backup.SPECS, *channels.SPECS]


class _Jobs(MutableMapping[str, JobSpec]):
    """Every job by name, collected on first use: the area modules import this module for
    JobSpec, so collecting them at import time would be circular."""

    def __init__(self) -> None:
        self._specs: dict[str, JobSpec] | None = None

    def _all(self) -> dict[str, JobSpec]:
        if self._specs is None:
            purge_spec = JobSpec(name="purge_expired", cron="17 * * * *", period_of=HOURLY, per_estate=False,
                                 func=purge.purge_expired,
                                 description="Delete sign-in tokens expired or revoked over a day ago, and other expired records")
            self._specs = {spec.name: spec for spec in [purge_spec, *_area_specs()]}
        return self._specs

    def __getitem__(self, name: str) -> JobSpec:
        return self._all()[name]

    def __setitem__(self, name: str, spec: JobSpec) -> None:
        self._all()[name] = spec  # tests register jobs of their own

    def __delitem__(self, name: str) -> None:
        del self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


JOBS: MutableMapping[str, JobSpec] = _Jobs()


def get_job(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJob(f"no job named {name!r}", job=name) from None
