"""Reading a PDF as a print server would, with poppler's tools (installed by scripts/test.sh)."""
from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PdfFont:
    name: str
    type: str
    embedded: bool
    subset: bool


def _run(*args: str, pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run([*args, f.name, "-"] if args[0] == "pdftotext" else [*args, f.name],
                              check=True, capture_output=True, text=True).stdout


def fonts_of(pdf: bytes) -> list[PdfFont]:
    """Every font the PDF names, from `pdffonts` (two header lines, then one row per font)."""
    out = []
    for line in _run("pdffonts", pdf=pdf).splitlines()[2:]:
        cols = line.split()
        # name, type (may be two words), encoding, emb, sub, uni, object, id
        emb, sub = cols[-5], cols[-4]
        out.append(PdfFont(name=cols[0], type=" ".join(cols[1:-6]), embedded=emb == "yes", subset=sub == "yes"))
    return out


def text_of(pdf: bytes) -> str:
    """The text as extracted from the page content (what a reader's search finds), with spaces and
    tabs removed: extraction spaces Chinese unpredictably, so compare against text without them.
    Pages are separated by a form feed, lines by newlines."""
    raw = _run("pdftotext", "-layout", "-enc", "UTF-8", pdf=pdf)
    return re.sub(r"[ \t]+", "", raw)


def pages_of(pdf: bytes) -> int:
    info = _run("pdfinfo", pdf=pdf)
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def png_pages(pdf: bytes, *, into: Path, stem: str, dpi: int = 80) -> list[Path]:
    """Each page drawn to PNG by pdftoppm, as a reader would see it."""
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), f.name, str(into / stem)], check=True, capture_output=True)
    return sorted(into.glob(f"{stem}-*.png"))
