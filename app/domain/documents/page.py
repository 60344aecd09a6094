"""One document's pages: letterhead, title, copy label, page numbers, who printed it, marks.

A kind builds its story (paragraphs, tables) and hands it here with a `Layout`. A long table runs
onto more pages with its header repeated; each page is numbered 第 n 页 / 共 m 页 within its copy,
so a receipt printed as three copies (存根联 / 交款人联 / 记账联) numbers each copy from 1.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageBreak, PageTemplate

from app.domain.calendar import estate_time
from app.domain.documents import fonts, writing
from app.domain.registry.script import DEFAULT_SCRIPT, Script

A4_PORTRAIT = A4
A4_LANDSCAPE = landscape(A4)
A5_LANDSCAPE = landscape(A5)
MARGIN = 12 * mm
HEADER = 20 * mm  # letterhead band above the frame
FOOTER = 10 * mm


@dataclass(frozen=True, kw_only=True)
class Letterhead:
    """Who the paper is from: the company as registered, and the estate's office."""

    legal_name: str
    office_name: str
    address: str | None = None
    phone: str | None = None
    script: Script = DEFAULT_SCRIPT  # the estate's characters, which the whole document is written in


@dataclass(frozen=True, kw_only=True)
class Printing:
    """Who printed the document and when, printed in the estate's zone on every page."""

    by: str
    at: datetime
    time_zone: str

    def local(self) -> str:
        return estate_time.local_time(self.at, self.time_zone).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, kw_only=True)
class Diagonal:
    """A large mark across every page (作废), with the line that says when, who and why."""

    text: str
    note: str


@dataclass(frozen=True, kw_only=True)
class Copy:
    """One copy of the document: its label (存根联 ...) and its story, starting on a new page."""

    label: str | None
    story: Sequence[Flowable]


@dataclass(frozen=True, kw_only=True)
class Layout:
    title: str
    number: str | None = None  # the document's own number, top right
    size: tuple[float, float] = A4_PORTRAIT
    corner: str | None = None  # 预览 / 补打 N, top left
    diagonal: Diagonal | None = None
    subject: str | None = None
    copies: Sequence[Copy] = field(default_factory=tuple)


class _CopyStart(Flowable):
    """Zero-size marker: the pages from here on belong to this copy."""

    def __init__(self, index: int, label: str | None) -> None:
        super().__init__()
        self.index, self.label = index, label

    def wrap(self, *_: Any) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv._pd_copy = (self.index, self.label)


class _Paper(Canvas):
    """Keeps every page until the end so each can be numbered 第 n 页 / 共 m 页 within its copy."""

    layout: Layout
    letterhead: Letterhead
    printing: Printing

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._pd_copy: tuple[int, str | None] = (0, None)

    # The frame, the marks and the stamp box are drawn as strings: in the document's characters.
    def drawString(self, x: float, y: float, text: str, *args: Any, **kwargs: Any) -> None:
        super().drawString(x, y, writing.words(text), *args, **kwargs)

    def drawCentredString(self, x: float, y: float, text: str, *args: Any, **kwargs: Any) -> None:
        super().drawCentredString(x, y, writing.words(text), *args, **kwargs)

    def drawRightString(self, x: float, y: float, text: str, *args: Any, **kwargs: Any) -> None:
        super().drawRightString(x, y, writing.words(text), *args, **kwargs)

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        per_copy: dict[int, int] = {}
        for state in self._pages:
            index = state["_pd_copy"][0]
            per_copy[index] = per_copy.get(index, 0) + 1
        seen: dict[int, int] = {}
        for state in self._pages:
            self.__dict__.update(state)
            index, label = state["_pd_copy"]
            seen[index] = seen.get(index, 0) + 1
            _frame(self, label=label, page=seen[index], pages=per_copy[index])
            super().showPage()
        super().save()


def _frame(c: _Paper, *, label: str | None, page: int, pages: int) -> None:
    layout, head, printing = c.layout, c.letterhead, c.printing
    width, height = layout.size
    top = height - MARGIN
    c.setFillColor(colors.black)
    c.setFont(fonts.BOLD, 13)
    c.drawCentredString(width / 2, top - 4 * mm, f"{head.legal_name}")
    c.setFont(fonts.REGULAR, 8)
    contact = "  ".join(x for x in (head.office_name, head.address, f"电话 {head.phone}" if head.phone else None) if x)
    c.drawCentredString(width / 2, top - 9 * mm, contact)
    c.setFont(fonts.BOLD, 12)
    c.drawCentredString(width / 2, top - 16 * mm, layout.title)
    c.setFont(fonts.REGULAR, 9)
    if layout.number:
        c.drawRightString(width - MARGIN, top - 16 * mm, f"No. {layout.number}")
    if label:
        c.drawRightString(width - MARGIN, top - 4 * mm, label)
    if layout.corner:
        c.setFont(fonts.BOLD, 11)
        c.drawString(MARGIN, top - 4 * mm, layout.corner)
    c.setStrokeColor(colors.black)
    c.line(MARGIN, top - HEADER + 1 * mm, width - MARGIN, top - HEADER + 1 * mm)
    c.setFont(fonts.REGULAR, 7.5)
    c.drawString(MARGIN, MARGIN - 4 * mm, f"打印：{printing.by}  {printing.local()}")
    c.drawRightString(width - MARGIN, MARGIN - 4 * mm, f"第 {page} 页 / 共 {pages} 页")
    if layout.diagonal:
        _diagonal(c, layout.diagonal, width=width, height=height)


def _diagonal(c: Canvas, mark: Diagonal, *, width: float, height: float) -> None:
    c.saveState()
    c.setFillColor(colors.Color(0.8, 0, 0, alpha=0.35))
    c.translate(width / 2, height / 2)
    c.rotate(30)
    c.setFont(fonts.BOLD, min(width, height) / 3.2)
    c.drawCentredString(0, -min(width, height) / 10, mark.text)
    c.restoreState()
    c.setFillColor(colors.Color(0.7, 0, 0))
    c.setFont(fonts.BOLD, 9)
    c.drawCentredString(width / 2, MARGIN + 1 * mm, mark.note)
    c.setFillColor(colors.black)


def render(layout: Layout, *, letterhead: Letterhead, printing: Printing) -> bytes:
    """The PDF's bytes. Deterministic for the same input (ReportLab's invariant mode).

    Called, with the story built, inside `writing.written_in(letterhead.script)`."""
    if writing.current() is not letterhead.script:
        raise RuntimeError(f"a {letterhead.script.value} estate's document built in {writing.current().value} characters")
    fonts.register()
    out = BytesIO()
    width, height = layout.size
    frame = Frame(MARGIN, MARGIN + FOOTER / 2, width - 2 * MARGIN, height - 2 * MARGIN - HEADER - FOOTER / 2,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    doc = BaseDocTemplate(out, pagesize=layout.size, pageTemplates=[PageTemplate(id="page", frames=[frame])],
                          title=layout.title if not layout.number else f"{layout.title} {layout.number}",
                          subject=layout.subject or layout.number or layout.title, author=letterhead.legal_name,
                          creator="PropDesk", invariant=1, leftMargin=MARGIN, rightMargin=MARGIN,
                          topMargin=MARGIN, bottomMargin=MARGIN,
                          # ReportLab's canvas starts in Helvetica, which would be named in the PDF but never embedded.
                          initialFontName=fonts.REGULAR)
    story: list[Flowable] = []
    for index, copy in enumerate(layout.copies):
        if index:
            story.append(PageBreak())
        story.append(_CopyStart(index, copy.label))
        story.extend(copy.story)

    def paper(*args: Any, **kwargs: Any) -> _Paper:
        c = _Paper(*args, **kwargs)
        c.layout, c.letterhead, c.printing = layout, letterhead, printing
        return c

    doc.build(story, canvasmaker=paper)
    return out.getvalue()
