"""The estate's calendar has one home (app/domain/calendar/estate_time.py): no zone built, no
period bound or key made by hand anywhere else in app/, and no test moving the clock by patching
a module's `utcnow` (see that module's docstring for the clock rule)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "app" / "domain" / "calendar" / "estate_time.py"

# What each hand-made copy that was folded into the calendar looked like.
HAND_MADE = {
    "a zone built by hand (estate_time.zone / estate_zone)": r"\bZoneInfo\(",
    "an ISO week computed by hand (estate_time.week_key / week_monday)": r"\b(from)?isocalendar\(|%[GVW]",
    "a month's first day by hand (estate_time.first_of_month / month_first)": r"\.replace\(\s*day\s*=\s*1\s*\)",
    "month arithmetic by hand (estate_time.add_months)": r"\bmonth\s*(//|%)\s*12\b|\bdivmod\([^)]*,\s*12\)",
    "a month key by hand (estate_time.month_key)": r"%Y-%m(?!-)",
    "a week start by hand (estate_time.week_bounds / register_week_bounds)": r"timedelta\(\s*days\s*=[^)]*\bweekday\(\)",
    "a local midnight by hand (estate_time.day_start / day_bounds)":
        r"datetime\.combine\(.*(?<![.\w])time\(\s*0?\s*\)\s*,\s*tzinfo\s*=|datetime\.min\.time\(\)",
    "a period kind outside the calendar (estate_time.DAILY, PREVIOUS_WEEK, ...)": r"\bPeriodKind\(",
    "a period read from the job clock (import it from app.domain.calendar.estate_time)":
        r"from app\.jobs\.\w+ import [^\n]*\b(HOURLY|DAILY|WEEKLY|MONTHLY|PeriodKind)\b",
}


def findings(root: Path, patterns: dict[str, str], *, skip: Path | None = None) -> list[str]:
    """path:line: what: the line, for every line of root's Python files that matches a pattern."""
    out = []
    for path in sorted(root.rglob("*.py")):
        if path == skip:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]  # a comment may name what it replaced
            for what, pattern in patterns.items():
                if re.search(pattern, code):
                    out.append(f"{path.relative_to(root.parent)}:{n}: {what}: {line.strip()}")
    return out


def test_the_calendar_is_written_once():
    assert findings(ROOT / "app", HAND_MADE, skip=HOME) == []


def test_tests_move_the_clock_with_time_machine_not_by_patching_utcnow():
    patched = {"utcnow patched (use time_machine.travel or pass now=)": r"setattr\([^)]*[\"']utcnow[\"']"}
    assert findings(ROOT / "tests", patched, skip=Path(__file__).resolve()) == []


@pytest.mark.parametrize("line", [
    "tz = ZoneInfo(estate.time_zone)",
    "year, week, _ = day.isocalendar()",
    'monday = datetime.strptime(week + "-1", "%G-W%V-%u")',
    "start = day.replace(day=1)",
    "end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)",
    'return at.astimezone(tz).strftime("%Y-%m")',
    "monday = today - timedelta(days=today.weekday())",
    "return datetime.combine(day, time(0), tzinfo=tz)",
    "from app.jobs.registry import MONTHLY  # the job clock's own reading of a month",
])
def test_each_pattern_catches_a_copy_that_was_removed(tmp_path, line):
    (tmp_path / "copy.py").write_text(line + "\n", encoding="utf-8")
    assert findings(tmp_path, HAND_MADE)
