"""The characters an estate writes in: simplified (简体) or traditional (繁體).

Every sentence the app writes for people (phone scripts, read-backs, owner notifications, unit
labels, documents) passes through `in_script` with the estate's choice, so that a sentence never
mixes both, whichever form a template, a building name or an owner's name was typed in.

OpenCC does the conversion: its phrase dictionaries tell 后面 -> 後面 from 皇后, 干净 -> 乾淨 from
干扰, which a character table cannot. Traditional output uses the Taiwan standard character forms
(`s2tw`: 為, 裡, 著, as most offices and fonts print them; plain `s2t` prints 爲, 裏, 着) without
changing vocabulary; simplified output is the mainland standard (`t2s`).
"""
from __future__ import annotations

import uuid
from functools import cache, lru_cache

import opencc
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.registry.model import DEFAULT_SCRIPT, Estate, Script

__all__ = ["DEFAULT_SCRIPT", "Script", "in_script", "script_of"]
_CONFIGS = {Script.simplified: "t2s", Script.traditional: "s2tw"}


@cache
def _converter(script: Script) -> opencc.OpenCC:
    # Loading the dictionaries takes a few milliseconds; converting is cheap and thread-safe.
    return opencc.OpenCC(_CONFIGS[script])


def in_script(text: str, script: Script | str = DEFAULT_SCRIPT) -> str:
    """The text wholly in `script`: 8号楼2單元301 -> 8号楼2单元301 (simplified) or 8號樓2單元301 (traditional)."""
    if not text or text.isascii():
        return text
    return _convert(text, Script(script))


# A list of units converts the same building names and 单元 again and again.
@lru_cache(maxsize=4096)
def _convert(text: str, script: Script) -> str:
    return str(_converter(script).convert(text))


async def script_of(session: AsyncSession, estate_id: uuid.UUID | None) -> Script:
    """The estate's choice; the default when there is no estate (a company-wide sentence)."""
    estate = await session.get(Estate, estate_id) if estate_id is not None else None
    return Script(estate.script) if estate is not None else DEFAULT_SCRIPT
