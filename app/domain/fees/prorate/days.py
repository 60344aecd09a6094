"""The days of a month a unit and a subscription are billed for: pure, no database (issue 17)."""
from __future__ import annotations

from datetime import date

from app.domain.calendar.estate_time import month_key
from app.domain.errors import Invalid
from app.domain.fees.billing import rules as billing
from app.domain.fees.model import UnitFeeItem

Span = tuple[date | None, date | None]  # first and last day billed; None: open


class DayOutsideMonth(Invalid):
    title = "The day is not in the subscription's first (starts_on) or last (ends_on) month"
    title_zh = "该日期不在计费关系的首月（starts_on）或末月（ends_on）内"


def check_subscription_days(*, from_month: str, to_month: str | None, starts_on: date | None, ends_on: date | None) -> None:
    """starts_on is a day of from_month, ends_on a day of to_month (which it needs)."""
    if starts_on is not None and month_key(starts_on) != from_month:
        raise DayOutsideMonth(field="starts_on", from_month=from_month)
    if ends_on is not None and (to_month is None or month_key(ends_on) != to_month):
        raise DayOutsideMonth(field="ends_on", to_month=to_month)
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise DayOutsideMonth(field="ends_on")


def subscription_span(sub: UnitFeeItem) -> Span:
    return sub.starts_on, sub.ends_on


def month_days(month: str, *spans: Span) -> tuple[int, int]:
    """(days billed, days in the month) where every span overlaps: a unit's and a subscription's."""
    first, last = None, None
    for start, end in spans:
        if start is not None:
            first = start if first is None else max(first, start)
        if end is not None:
            last = end if last is None else min(last, end)
    return billing.billed_days(month, billed_from=first, billed_to=last)
