"""The pieces document kinds are made of, all in the embedded font: text, tables, fields, signatures."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from app.domain.calendar import estate_time
from app.domain.documents import fonts
from app.domain.documents.writing import words

BODY = ParagraphStyle("body", fontName=fonts.REGULAR, fontSize=9.5, leading=13, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10.5)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8.5, leading=11)
CELL_RIGHT = ParagraphStyle("cell-right", parent=CELL, alignment=TA_RIGHT)
HEAD = ParagraphStyle("head", parent=CELL, fontName=fonts.BOLD, alignment=TA_CENTER)
STRONG = ParagraphStyle("strong", parent=BODY, fontName=fonts.BOLD, fontSize=10.5, leading=14)
CENTRED = ParagraphStyle("centred", parent=BODY, alignment=TA_CENTER)
# A table names its cells' font in the PDF even when every cell is a paragraph; left to its
# default that is Helvetica, never embedded, so every table states the embedded font.
TABLE_FONT = ("FONTNAME", (0, 0), (-1, -1), fonts.REGULAR)


def table_style(commands: Sequence[tuple[Any, ...]]) -> TableStyle:
    """A table's style in the embedded font: a Table sets its cells' font (Helvetica unless told)
    even when they hold paragraphs, which names a font the PDF does not embed."""
    return TableStyle([TABLE_FONT, *commands])


def when(at: datetime | None, time_zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment as the estate's clock read it (blank for none): every time printed on paper."""
    return estate_time.local_time(at, time_zone).strftime(fmt) if at is not None else ""


def money(value: Decimal) -> str:
    """Figures as offices write them: thousands separated, two places, never float."""
    return f"{value.quantize(Decimal('0.01')):,.2f}"


def text(value: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain text: typed names and notes are escaped, never read as markup."""
    fonts.register()  # a paragraph resolves its font when it is made, not when drawn
    value = words(value)
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def gap(height_mm: float = 3) -> Spacer:
    return Spacer(1, height_mm * mm)


def fields(pairs: Sequence[tuple[str, str | None]], *, width: float, columns: int = 2) -> Table:
    """Label-value pairs in a grid (房号：… 交款人：…); an empty value prints a blank to fill by hand."""
    cells = [text(f"{label}：{value or ''}", CELL) for label, value in pairs]
    rows = [cells[i:i + columns] for i in range(0, len(cells), columns)]
    rows[-1] += [text("", CELL)] * (columns - len(rows[-1]))
    table = Table(rows, colWidths=[width / columns] * columns)
    table.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                ("BOTTOMPADDING", (0, 0), (-1, -1), 2), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    return table


def grid(header: Sequence[str], rows: Sequence[Sequence[str]], *, widths: Sequence[float],
         right: Sequence[int] = (), total: Sequence[str] | None = None) -> Table:
    """A ruled table whose header repeats on every page it runs onto; `right` columns are figures."""
    def cell(value: str, col: int, bold: bool = False) -> Paragraph:
        style = CELL_RIGHT if col in right else CELL
        return text(value, ParagraphStyle("b", parent=style, fontName=fonts.BOLD) if bold else style)

    data: list[list[Paragraph]] = [[text(h, HEAD) for h in header]]
    data += [[cell(v, n) for n, v in enumerate(row)] for row in rows]
    if total is not None:
        data.append([cell(v, n, bold=True) for n, v in enumerate(total)])
    table = Table(data, colWidths=list(widths), repeatRows=1)
    # Narrow padding: a wide table's figures and numbers fit their columns without wrapping.
    style = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("LEFTPADDING", (0, 0), (-1, -1), 3),
             ("RIGHTPADDING", (0, 0), (-1, -1), 3), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9))]
    table.setStyle(table_style(style))
    return table


def signatures(labels: Sequence[str], *, width: float) -> Table:
    """Lines to sign by hand: 经办人：________  日期：________."""
    cells = [text(f"{label}：", CELL) for label in labels]
    table = Table([cells], colWidths=[width / len(labels)] * len(labels), rowHeights=[12 * mm])
    table.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                *[("LINEBELOW", (n, 0), (n, 0), 0.5, colors.black) for n in range(len(labels))],
                                ("RIGHTPADDING", (0, 0), (-1, -1), 6 * mm)]))
    return table


class StampBox(Flowable):
    """The dashed square the office stamps its seal (收款专用章) into, placed at the right."""

    def __init__(self, *, label: str = "（盖章）", size_mm: float = 32) -> None:
        super().__init__()
        self.label, self.size = label, size_mm * mm

    def wrap(self, avail_width: float, _avail_height: float) -> tuple[float, float]:
        self.avail = avail_width
        return avail_width, self.size

    def draw(self) -> None:
        c = self.canv
        x = self.avail - self.size
        c.saveState()
        c.setDash(3, 2)
        c.rect(x, 0, self.size, self.size)
        c.setFont(fonts.REGULAR, 8)
        c.drawCentredString(x + self.size / 2, self.size / 2, self.label)
        c.restoreState()


def flow(*parts: Flowable | None) -> list[Flowable]:
    return [p for p in parts if p is not None]


def ruled(count: int, *, width: float, label: str | None = None, height_mm: float = 8) -> Table:
    """Blank ruled lines to write on by hand (维修情况：____), the label on the first line."""
    rows = [[text(label or "", CELL)]] + [[text("", CELL)] for _ in range(count - 1)]
    table = Table(rows, colWidths=[width], rowHeights=[height_mm * mm] * count)
    table.setStyle(TableStyle([TABLE_FONT, ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.black)]))
    return table


def choices(label: str, options: Sequence[str]) -> Paragraph:
    """Boxes to tick by hand: 维修结果：□ 已修复  □ 需再次上门."""
    # No-break spaces: a paragraph folds ordinary runs of spaces into one.
    return text(f"{label}：" + "\u00a0" * 4 + ("\u00a0" * 6).join(f"□\u00a0{o}" for o in options), CELL)

