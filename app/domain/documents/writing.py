"""The characters a document is written in: the estate's choice, for every word on the paper.

A kind builds and renders its document inside `written_in(letterhead.script)`; every paragraph
(`parts.text`), the page frame and the marks then come out wholly in simplified or traditional
characters, whatever form a template, a building or an owner's name was typed in.
`page.render` refuses a document whose letterhead names another script than the one it is being
written in, so a kind that forgets the block fails in a traditional estate's test, not on paper.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from app.domain.registry.script import DEFAULT_SCRIPT, Script, in_script

_CURRENT: ContextVar[Script] = ContextVar("document_script", default=DEFAULT_SCRIPT)


@contextmanager
def written_in(script: Script | str) -> Iterator[Script]:
    token = _CURRENT.set(Script(script))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def current() -> Script:
    return _CURRENT.get()


def words(value: str) -> str:
    """`value` in the characters of the document being written."""
    return in_script(value, _CURRENT.get())
