"""The documents' font, registered once per process: ReportLab subsets and embeds it in every PDF."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

HERE = Path(__file__).parent / "fonts"
REGULAR = "NotoSansSC"
BOLD = "NotoSansSC-Bold"


@cache
def register() -> None:
    """Idempotent; the first document in a process pays the ~0.2 s of reading the font files."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(HERE / "NotoSansSC-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(HERE / "NotoSansSC-Bold.ttf")))
    # <b> in a paragraph picks the bold file rather than a missing Helvetica-Bold.
    for italic in (0, 1):
        addMapping(REGULAR, 0, italic, REGULAR)
        addMapping(REGULAR, 1, italic, BOLD)
