"""The language of a problem answer, from the request's Accept-Language.

English stays the default: integrations send no Accept-Language (or `*`) and get the English
titles they were written against. A desk client that asks for Chinese gets Chinese titles and
field messages; zh-TW, zh-HK, zh-MO and zh-Hant get the same sentences in traditional
characters (OpenCC, as the estate's own documents are converted). The `type` URIs, member
names and field names never change with the language: clients match on them.
"""
from __future__ import annotations

from enum import StrEnum

from app.domain.registry.script import Script, in_script


class Language(StrEnum):
    """The languages a problem is written in, by the tag sent as Content-Language."""

    english = "en"
    simplified = "zh-CN"
    traditional = "zh-TW"


DEFAULT = Language.english
# Subtags of zh that mean traditional characters (BCP 47 script or region).
_TRADITIONAL = {"hant", "tw", "hk", "mo"}


def _ranges(header: str) -> list[tuple[float, int, str]]:
    """(q, position, tag) of each language range; a malformed or q=0 range is left out."""
    out = []
    for position, part in enumerate(header.split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and 0 < q <= 1:
            out.append((q, position, tag.lower()))
    return out


def _language_of(tag: str) -> Language | None:
    primary, *rest = tag.split("-")
    if primary == "zh":
        return Language.traditional if _TRADITIONAL & set(rest) else Language.simplified
    if primary in ("en", "*"):
        return Language.english
    return None  # a language we do not write: look at the client's next choice


def negotiate(header: str | None) -> Language:
    """The best language the client accepts, highest q first, ties in the order sent."""
    for _, _, tag in sorted(_ranges(header or ""), key=lambda r: (-r[0], r[1])):
        language = _language_of(tag)
        if language is not None:
            return language
    return DEFAULT


def chinese(text: str, language: Language) -> str:
    """A simplified-Chinese sentence as the language writes it."""
    return in_script(text, Script.traditional) if language is Language.traditional else text
