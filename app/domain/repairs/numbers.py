"""Numbers people can read over the phone: QS-BX-2026-000045 for a request, QS-WX-2026-000123 for its order.

BX is 报修 (what the desk registers: the caller is given this number), WX is 维修 (the repair
job the technician carries out on the task sheet). Two letters of pinyin keep both series
distinct from receipts (QS-2026-…, QS-R-2026-…) and complaints (TS-2026-…), easy to say on the
phone and to type in a search box. Each series counts per estate and per year in the estate's
zone, gapless, from the receipts' counter table; trailing digits find a number of any year.
"""
from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.calendar import estate_time
from app.domain.fees.payments.model import next_seq
from app.domain.registry.model import Estate


class Series(StrEnum):
    """The document_counter series, and the letters each writes in its numbers."""

    service_request = "service_request"
    work_order = "work_order"

    @property
    def letters(self) -> str:
        return _LETTERS[self]


_LETTERS = {Series.service_request: "BX", Series.work_order: "WX"}
SEQ_DIGITS = 6
# What a search for a number may be: its trailing digits, or the whole number.
TRAILING = re.compile(rf"^[0-9]{{1,{SEQ_DIGITS}}}$")
# ASCII digits only (\d would take ٣), and no NUL, which PostgreSQL text cannot hold.
SEARCH_PATTERN = rf"^([0-9]{{1,{SEQ_DIGITS}}}|[^\x00]{{1,40}}-[A-Za-z]{{2}}-[0-9]{{4}}-[0-9]{{6,}})$"

def format_number(*, estate_code: str, series: Series, year: int, seq: int) -> str:
    return f"{estate_code}-{series.letters}-{year}-{seq:0{SEQ_DIGITS}d}"


async def next_number(session: AsyncSession, *, estate: Estate, series: Series, at: datetime) -> str:
    """The next number of the series for a row created at `at`; concurrent callers queue on the counter's row
    until their transaction ends, so a rolled-back registration leaves no gap."""
    year = estate_time.local_now(estate, now=at).year
    seq = await next_seq(session, estate_id=estate.id, series=series, year=year)
    return format_number(estate_code=estate.code, series=series, year=year, seq=seq)


def is_whole(search: str) -> bool:
    return not TRAILING.match(search.strip())


def matches(column: Any, search: str) -> Any:
    """The condition finding `search` in a number column: the whole number, or its trailing digits.

    The caller validated `search` against SEARCH_PATTERN. The whole number is also tried upper-cased
    (qs-wx-2026-000123 as typed in a hurry); both ways the unique index answers.
    """
    search = search.strip()
    if TRAILING.match(search):
        return column.like(f"%-{int(search):0{SEQ_DIGITS}d}")
    return column.in_(sorted({search, search.upper()}))
