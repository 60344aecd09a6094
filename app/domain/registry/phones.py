"""Phone numbers as people type them: spaces, dashes, +86, full-width digits, two in a cell."""
from __future__ import annotations

import re
import unicodedata

_SPLIT = re.compile(r"[/／,，;；、\s]{2,}|[/／,，;；、]")
_KEEP = re.compile(r"\d+")


def _half_width(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def normalize_phone(raw: str) -> str | None:
    """Digits a caller id would show: '+86 133-5173-7459' -> '13351737459', '0392-6540615' -> '03926540615'.

    None when what is left cannot be a Chinese mobile or landline number.
    """
    digits = "".join(_KEEP.findall(_half_width(raw or "")))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits[0] == "1":
        return digits  # mobile
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        return digits  # landline with area code
    if 7 <= len(digits) <= 8:
        return digits  # local landline without area code
    return None


def split_phones(raw: str) -> list[str]:
    """The separate numbers in one roster cell, as typed (not yet normalized)."""
    text = _half_width(raw or "").strip()
    if not text:
        return []
    parts = [p.strip() for p in _SPLIT.split(text) if p and p.strip()]
    return parts or [text]
