"""How big the company is at a scale, and what every estate's builders share."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bench.bigdata.rows import Ids, Rows

# The company at --scale 1.0.
ESTATES, UNITS, OWNERS, REQUESTS, COMPLAINTS = 200, 200_000, 250_000, 650_000, 20_000
MONTHS = 36
TIME_ZONE = "Asia/Shanghai"  # UTC+8 all year: estate-local times are written with +08
PASSWORD = "propdesk-bench"
# (username suffix, role, how many per estate)
STAFF = [("reception", "receptionist", 3), ("tech", "technician", 10), ("supervisor", "supervisor", 1),
         ("director", "cs_director", 1), ("finance", "finance", 1), ("records", "records_clerk", 1),
         ("manager", "manager", 4)]


@dataclass(frozen=True)
class Sizes:
    estates: int
    units: int  # per estate, one public-area unit per building among them
    requests: int  # per estate, over the whole history
    complaints: int  # per estate

    @classmethod
    def at(cls, scale: float) -> Sizes:
        estates = max(1, round(ESTATES * scale))
        per = lambda total, least: max(least, round(total * scale / estates))  # noqa: E731
        return cls(estates=estates, units=per(UNITS, 20), requests=per(REQUESTS, 10), complaints=per(COMPLAINTS, 3))


def add_months(first: date, n: int) -> date:
    years, month = divmod(first.month - 1 + n, 12)
    return date(first.year + years, month + 1, 1)


def month_of(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def weekday(value: date) -> date:
    while value.weekday() >= 5:
        value += timedelta(days=1)
    return value


@dataclass
class Estate:
    """One estate being built: its ids, clock, staff and the rows written so far."""

    no: int  # 0-based
    seed: int
    now: datetime  # estate-local, naive
    company_id: str
    rows: Rows = field(default_factory=Rows)
    staff: dict[str, str] = field(default_factory=dict)  # "reception1" -> user id
    private_units: list[tuple] = field(default_factory=list)  # (id, building_no, area fen/100, vacant, owner idx)
    public_units: list[tuple] = field(default_factory=list)  # (id, building id, building name, jurisdiction idx)
    owners: list[tuple] = field(default_factory=list)  # per private unit: (owner id, name, phone)
    jurisdictions: list[str] = field(default_factory=list)
    unit_building: dict[str, tuple[str, int]] = field(default_factory=dict)  # unit -> (building id, jurisdiction idx)
    fee_items: dict[str, str] = field(default_factory=dict)
    extra_charges: list[tuple] = field(default_factory=list)  # repairs' charges: (unit id, due, created, fen, ...)
    draws: list[tuple] = field(default_factory=list)  # repairs' stock draws, for the store room

    def __post_init__(self) -> None:
        self.id_of = Ids(self.no)
        self.rng = random.Random(f"{self.seed}:{self.no}")
        self.id = self.id_of()
        this = self.today.replace(day=1)
        self.months = [month_of(add_months(this, i - MONTHS + 1)) for i in range(MONTHS)]
        self.start = datetime(int(self.months[0][:4]), int(self.months[0][5:]), 1)  # the first billed month's 1st
        self._groups: dict[str, list[str]] = {}

    @property
    def code(self) -> str:
        return f"E{self.no + 1:03d}"

    @property
    def today(self) -> date:
        return self.now.date()

    def users(self, suffix: str) -> list[str]:
        """The staff of a role in number order (reception1, reception2, ...); asked once the staff exist."""
        if suffix not in self._groups:
            self._groups[suffix] = [v for k, v in self.staff.items() if k.rstrip("0123456789") == suffix]
        return self._groups[suffix]
