"""Reading the roster's file: CSV (UTF-8 or GB18030) or XLSX, to the rows under its header.

The cells are read by roster.py; this module only finds them, with caps on what a hostile
or broken file can make us hold in memory.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from typing import Any

from app.domain.registry.roster import (
    HEADER_SEARCH_ROWS,
    HEADERS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    REQUIRED,
    ParsedRoster,
    RosterUnreadable,
    cell_text,
    check_units,
    find_columns,
    is_trailer,
    read_row,
)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise RosterUnreadable("the file is neither UTF-8 nor GB18030 text, nor an XLSX workbook")


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data)
    sample = text[:4096]
    delimiter = max((",", "\t", ";"), key=sample.count)
    try:
        for i, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            yield i, [cell_text(c) for c in cells[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise RosterUnreadable(f"the CSV file is malformed: {exc}") from None


def _xlsx_sheets(data: bytes) -> list[Iterator[tuple[int, list[str]]]]:
    import openpyxl

    _check_unpacked_size(data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl trips over, the file is unreadable
        raise RosterUnreadable(f"the XLSX workbook cannot be opened ({exc.__class__.__name__})") from None
    return [_sheet_rows(sheet) for sheet in book.worksheets]


def _check_unpacked_size(data: bytes) -> None:
    # A small upload can unpack to gigabytes; a real roster unpacks to a few megabytes.
    try:
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RosterUnreadable(f"the XLSX workbook cannot be opened ({exc.__class__.__name__})") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise RosterUnreadable("the XLSX workbook unpacks to more than a roster can hold")


def _sheet_rows(sheet: Any) -> Iterator[tuple[int, list[str]]]:
    try:
        for i, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            yield i, [cell_text(v) for v in values]
    except Exception as exc:  # noqa: BLE001 - a damaged sheet is the user's file, not our bug
        raise RosterUnreadable(f"the XLSX sheet cannot be read ({exc.__class__.__name__})") from None


def _is_xlsx(data: bytes, filename: str) -> bool:
    return data.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm"))


def _with_header(sources: list[Iterator[tuple[int, list[str]]]]) -> tuple[dict[str, tuple[int, str]], Iterator[tuple[int, list[str]]]]:
    """The first sheet with a roster header, and the rows under it."""
    for rows in sources:
        for i, cells in rows:
            columns = find_columns(cells)
            if columns:
                return columns, rows
            if i >= HEADER_SEARCH_ROWS:
                break
    wanted = " / ".join(HEADERS[k][0] for k in REQUIRED)
    raise RosterUnreadable(f"no header row with the columns {wanted} in the first {HEADER_SEARCH_ROWS} rows")


def parse_roster(data: bytes, filename: str) -> ParsedRoster:
    """Read a CSV (UTF-8 or GB18030) or XLSX roster. Raises RosterUnreadable for anything else."""
    if filename.lower().endswith(".xls") and data.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterUnreadable("old .xls workbooks are not read; save the roster as .xlsx or CSV")
    sources = _xlsx_sheets(data) if _is_xlsx(data, filename) else [_csv_rows(data)]
    columns, rows = _with_header(sources)
    parsed = ParsedRoster()
    for i, cells in rows:
        if not any(cells):
            continue
        room_index = columns["room"][0]
        if is_trailer(cells, cells[room_index] if room_index < len(cells) else ""):
            continue
        parsed.rows_read += 1
        if parsed.rows_read > MAX_ROWS:
            raise RosterUnreadable(f"the roster has more than {MAX_ROWS} rows; split it")
        row, errors = read_row(i, cells, columns)
        parsed.errors.extend(errors)
        if row is not None:
            parsed.rows.append(row)
    parsed.rows, unit_errors = check_units(parsed.rows, columns)
    parsed.errors = sorted(parsed.errors + unit_errors, key=lambda e: e.row)
    return parsed
