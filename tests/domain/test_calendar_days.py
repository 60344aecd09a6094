"""The calendar's pure answer: entered days, else the library's schedule, else the statutory days; and reading an upload."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.calendar import days as cal
from app.domain.calendar import upload
from app.domain.calendar.days import DayKind, DayType, Entry, Source


def kinds(first: date, n: int, entered=None) -> list[DayType]:
    return [cal.resolve(first + timedelta(days=i), entered).type for i in range(n)]


class TestLibraryYears:
    def test_national_day_is_a_holiday(self):
        day = cal.resolve(date(2026, 10, 1), None)
        assert (day.type, day.holiday_name, day.needs_duty_roster, day.source) == (DayType.holiday, "國慶節", True, Source.library)

    def test_weekend_inside_a_holiday_is_the_holiday(self):
        assert cal.resolve(date(2026, 10, 3), None).type == DayType.holiday  # a Saturday of the Golden Week

    def test_sunday_worked_in_exchange_is_an_adjusted_workday(self):
        day = cal.resolve(date(2026, 1, 4), None)  # Sunday, worked for New Year's Day
        assert (day.type, day.holiday_name, day.needs_duty_roster, day.is_workday) == (DayType.adjusted_workday, "元旦", False, True)

    def test_ordinary_days(self):
        assert cal.resolve(date(2026, 5, 12), None).type == DayType.workday
        assert cal.resolve(date(2026, 5, 16), None).type == DayType.weekend

    def test_workdays_of_october_2026(self):
        # 31 days: National Day 1-7 off, six weekend days off, Saturday 10-10 worked.
        assert sum(d in (DayType.workday, DayType.adjusted_workday) for d in kinds(date(2026, 10, 1), 31)) == 18


class TestProvisionalYears:
    def test_2027_has_only_the_thirteen_statutory_days(self):
        # chinese_calendar has no 2027; `holidays` computes the lunar dates (春節 6 Feb 2027, 除夕 the 5th).
        assert cal.library_year(2027) is None
        found = cal.provisional_year(2027)
        assert [(d.isoformat(), e.name) for d, e in found.items()] == [
            ("2027-01-01", "元旦"), ("2027-02-05", "春節"), ("2027-02-06", "春節"), ("2027-02-07", "春節"), ("2027-02-08", "春節"),
            ("2027-04-05", "清明節"), ("2027-05-01", "勞動節"), ("2027-05-02", "勞動節"), ("2027-06-09", "端午節"),
            ("2027-09-15", "中秋節"), ("2027-10-01", "國慶節"), ("2027-10-02", "國慶節"), ("2027-10-03", "國慶節")]
        assert {e.kind for e in found.values()} == {DayKind.holiday}  # no 調休: nobody knows them before the notice

    def test_the_library_guesses_no_observed_days(self):
        # `holidays` would give Monday 4 October 2027 off "(observed)"; the notice decides that, not we.
        day = cal.resolve(date(2027, 10, 4), None)
        assert (day.type, day.source) == (DayType.workday, Source.provisional)

    @pytest.mark.parametrize("year", [2000, 2003, 2027, 2050, 2099])
    def test_every_year_the_api_takes_is_answered(self, year):
        assert cal.resolve(date(year, 1, 1), None).type == DayType.holiday
        assert len(cal.fallback_year(year)[1]) >= 7


class TestEnteredYears:
    def test_entered_days_alone_answer_their_year(self):
        entered = {date(2026, 10, 1): Entry(DayKind.holiday, "国庆节")}
        assert kinds(date(2026, 10, 1), 3, entered) == [DayType.holiday, DayType.workday, DayType.weekend]
        assert cal.resolve(date(2026, 10, 2), entered).source == Source.entered

    def test_a_workday_entry_on_a_weekend_is_an_adjusted_workday(self):
        entered = {date(2027, 1, 31): Entry(DayKind.workday, "春节")}
        assert cal.resolve(date(2027, 1, 31), entered).type == DayType.adjusted_workday


def rows(*specs: tuple[str, str, str]) -> list[upload.Row]:
    from app.domain.calendar.schemas import HolidayDayCreate

    return upload.from_body([HolidayDayCreate(day=d, kind=k, name=n) for d, k, n in specs])


class TestCheckYear:
    def test_a_good_year_passes(self):
        upload.check_year(2027, rows(("2027-01-01", "holiday", "元旦"), ("2027-01-31", "workday", "春节")))

    def test_every_problem_is_named_by_row_and_field(self):
        with pytest.raises(upload.CalendarHasErrors) as err:
            upload.check_year(2027, rows(("2027-01-01", "holiday", "元旦"), ("2026-12-31", "holiday", "元旦"),
                                         ("2027-01-01", "holiday", "元旦"), ("2027-01-04", "workday", "元旦")))
        assert [(e["row"], e["field"]) for e in err.value.extra["errors"]] == [(2, "days.1.day"), (3, "days.2.day"), (4, "days.3.kind")]


class TestReadFile:
    def test_csv_with_a_bom_and_blank_lines(self):
        found = upload.read_file("\ufeffdate,kind,name\n\n2027-01-01,holiday,元旦\n".encode())
        assert [(r.number, r.day.day, r.day.kind) for r in found] == [(3, date(2027, 1, 1), DayKind.holiday)]

    def test_csv_rows_name_the_line_and_the_column_as_written(self):
        with pytest.raises(upload.CalendarHasErrors) as err:
            upload.read_file(b"Date,Kind,Name\n2027-01-01,holiday,\n")
        assert [(e["row"], e["field"]) for e in err.value.extra["errors"]] == [(2, "Name")]

    def test_json_list_or_object(self):
        item = {"day": "2027-01-01", "kind": "holiday", "name": "元旦"}
        import json

        assert len(upload.read_file(json.dumps([item]).encode())) == len(upload.read_file(json.dumps({"days": [item]}).encode())) == 1
        with pytest.raises(upload.CalendarHasErrors) as err:
            upload.read_file(json.dumps({"days": [item, {**item, "kind": "x"}]}).encode())
        assert err.value.extra["errors"][0]["field"] == "days.1.kind"

    @pytest.mark.parametrize("data", [b"", b"\xff\xfe\x00\x00", b'{"days": 3}', b"{broken", b"day,name\n"])
    def test_unreadable_files(self, data):
        with pytest.raises(upload.CalendarUnreadable):
            upload.read_file(data)
