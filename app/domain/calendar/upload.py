"""Reading a year's schedule: a JSON body, or a CSV or JSON file; every bad row named, nothing half-read.

CSV: a header row with `date`, `kind`, `name` (or 日期, 类型, 名称), one date per row,
UTF-8 or GB18030. JSON: `{"days": [{"day": ..., "kind": ..., "name": ...}, ...]}` or the bare list.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.domain.calendar.days import DayKind, is_weekend
from app.domain.calendar.schemas import MAX_DAYS_A_YEAR, HolidayDayCreate
from app.domain.errors import Invalid


class CalendarUnreadable(Invalid):
    title = "The file is not a CSV or JSON holiday schedule"
    title_zh = "文件不是 CSV 或 JSON 格式的节假日安排"


class CalendarHasErrors(Invalid):
    title = "The year's schedule has errors; nothing was written"
    title_zh = "该年度安排有错误，未写入任何内容"


@dataclass(frozen=True)
class Row:
    number: int  # the CSV line (the header is line 1), or the 1-based position in the JSON list
    fields: dict[str, str]  # our field name -> the name the sender used ("day" -> "days.3.day" or "date")
    day: HolidayDayCreate


def _problem(number: int, field: str, problem: str) -> dict[str, Any]:
    return {"row": number, "field": field, "problem": problem}


def from_body(days: list[HolidayDayCreate]) -> list[Row]:
    return [Row(i + 1, {k: f"days.{i}.{k}" for k in ("day", "kind", "name")}, d) for i, d in enumerate(days)]


def check_year(year: int, rows: list[Row]) -> None:
    """Dates inside the year, each once; adjusted working days on a weekend. Raises naming every bad row."""
    errors: list[dict[str, Any]] = []
    if not rows:
        errors.append(_problem(0, "days", "the schedule names no day"))
    if len(rows) > MAX_DAYS_A_YEAR:
        errors.append(_problem(rows[MAX_DAYS_A_YEAR].number, "days", f"more than {MAX_DAYS_A_YEAR} days"))
    seen: dict[Any, int] = {}
    for row in rows:
        day, field = row.day.day, row.fields["day"]
        if day.year != year:
            errors.append(_problem(row.number, field, f"{day.isoformat()} is not in {year}"))
        elif day in seen:
            errors.append(_problem(row.number, field, f"{day.isoformat()} is already on row {seen[day]}"))
        else:
            seen[day] = row.number
        if row.day.kind == DayKind.workday and not is_weekend(day):
            errors.append(_problem(row.number, row.fields["kind"],
                                   f"{day.isoformat()} is a weekday: an adjusted working day is a Saturday or Sunday"))
    if errors:
        raise CalendarHasErrors(f"{len(errors)} problem(s), first: row {errors[0]['row']} {errors[0]['field']}",
                                field=errors[0]["field"], errors=errors[:200])


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise CalendarUnreadable("the file is neither UTF-8 nor GB18030 text", field="file")


def read_file(data: bytes) -> list[Row]:
    text = _decode(data)
    return _json_rows(text) if text.lstrip()[:1] in ("[", "{") else _csv_rows(text)


def _validate(number: int, fields: dict[str, str], raw: dict[str, Any], errors: list[dict[str, Any]]) -> Row | None:
    try:
        return Row(number, fields, HolidayDayCreate.model_validate(raw))
    except ValidationError as exc:
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            errors.append(_problem(number, fields.get(loc[0], ".".join(loc)) if loc else "row", e["msg"]))
        return None


def _json_rows(text: str) -> list[Row]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarUnreadable(f"the JSON is malformed: {exc}", field="file") from None
    items = doc.get("days") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or (isinstance(doc, dict) and set(doc) - {"days"}):
        raise CalendarUnreadable('expected {"days": [...]} or a list of days', field="file")
    errors: list[dict[str, Any]] = []
    rows = []
    for i, raw in enumerate(items[:MAX_DAYS_A_YEAR + 1]):
        fields = {k: f"days.{i}.{k}" for k in ("day", "kind", "name")}
        if not isinstance(raw, dict):
            errors.append(_problem(i + 1, f"days.{i}", "expected an object with day, kind and name"))
        elif (row := _validate(i + 1, fields, raw, errors)) is not None:
            rows.append(row)
    if errors:
        raise CalendarHasErrors(f"{len(errors)} problem(s), first: row {errors[0]['row']} {errors[0]['field']}",
                                field=errors[0]["field"], errors=errors[:200])
    return rows


_HEADERS = {"day": ("date", "day", "日期"), "kind": ("kind", "type", "类型", "類型"), "name": ("name", "名称", "名稱", "节日", "節日")}


def _columns(header: list[str]) -> dict[str, tuple[int, str]]:
    cells = [c.strip().lower() for c in header]
    found = {key: next(((i, header[i].strip()) for i, c in enumerate(cells) if c in names), None)
             for key, names in _HEADERS.items()}
    missing = [names[0] for key, names in _HEADERS.items() if found[key] is None]
    if missing:
        raise CalendarUnreadable(f"the header row lacks the column(s): {', '.join(missing)}", field="file", missing=missing)
    return {k: v for k, v in found.items() if v is not None}


def _csv_rows(text: str) -> list[Row]:
    try:
        lines = [(n, cells) for n, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
                 if any(c.strip() for c in cells)]
    except csv.Error as exc:
        raise CalendarUnreadable(f"the CSV file is malformed: {exc}", field="file") from None
    if not lines:
        raise CalendarUnreadable("the file is empty", field="file")
    columns = _columns(lines[0][1])
    fields = {key: label for key, (_, label) in columns.items()}
    errors: list[dict[str, Any]] = []
    rows = []
    for number, cells in lines[1:MAX_DAYS_A_YEAR + 2]:
        raw = {key: cells[i].strip() if i < len(cells) else "" for key, (i, _) in columns.items()}
        if (row := _validate(number, fields, raw, errors)) is not None:
            rows.append(row)
    if errors:
        raise CalendarHasErrors(f"{len(errors)} problem(s), first: row {errors[0]['row']} {errors[0]['field']}",
                                field=errors[0]["field"], errors=errors[:200])
    return rows
