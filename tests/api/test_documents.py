"""Every document kind prints the same anywhere: its fonts are embedded, and its pages draw."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers.characters import assert_one_script
from tests.helpers.documents import KINDS
from tests.helpers.pdf import fonts_of, png_pages, text_of

# scripts/render-samples.sh sets this to docs/samples so a reader can look at every kind.
SAMPLES = os.environ.get("PROPDESK_SAMPLES")


@pytest.mark.parametrize("name", sorted(KINDS))
async def test_every_font_is_embedded_and_subset(name, client, session):
    pdf = await KINDS[name](client, session)
    found = fonts_of(pdf)
    assert found, "a document with no font draws no text"
    bare = [f.name for f in found if not (f.embedded and f.subset)]
    assert not bare, f"{name}: fonts a print server without them would draw as boxes: {bare}"


@pytest.mark.parametrize("name", sorted(KINDS))
async def test_every_word_is_in_the_estates_characters(name, client, session):
    """The factories type office names, payers and technicians in traditional characters; a
    simplified estate's paper (the default) prints every one of them in simplified."""
    assert_one_script(text_of(await KINDS[name](client, session)), "simplified")


def test_every_kind_the_issue_names_is_registered():
    assert set(KINDS) >= {"receipt", "receipt-17-lines", "receipt-void", "refund", "task-sheet", "cash-handover",
                          "arrears-notice", "arrears-notices-building", "repair-log", "saturday-register"}


@pytest.mark.parametrize("name", sorted(KINDS))
async def test_every_page_draws(name, client, session, tmp_path):
    pdf = await KINDS[name](client, session)
    pages = png_pages(pdf, into=tmp_path, stem=name)
    assert pages and all(p.stat().st_size > 2000 for p in pages), pages
    if SAMPLES:
        target = Path(SAMPLES)
        target.mkdir(parents=True, exist_ok=True)
        # Only this kind's pages: "receipt-*" would also match the pages of "receipt-void".
        for old in target.glob(f"{name}-*.png"):
            if re.fullmatch(rf"{re.escape(name)}-\d+\.png", old.name):
                old.unlink()
        for p in pages:
            shutil.copy(p, target / p.name)
