"""Input types that refuse what PostgreSQL would refuse, so bad input is a 422, not a 500."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

INT32_MAX = 2**31 - 1


def no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; say so at the edge.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def text(max_length: int, min_length: int = 1):  # noqa: ANN201 - an Annotated type
    """Stripped text of at most max_length characters, without NUL."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(no_nul),
    ]


# Years the office's paper can be about; keeps local-midnight arithmetic far from datetime's edges.
WEEK_PATTERN = r"^20\d{2}-W\d{2}$"
MONTH_PATTERN = r"^20\d{2}-(0[1-9]|1[0-2])$"


def real_week(week: str) -> str:
    """2026-W60 matches the pattern but names no week; 2025-W53 would silently become 2026-W01."""
    try:
        monday = datetime.strptime(week + "-1", "%G-W%V-%u")
    except ValueError:
        raise ValueError("not an ISO week") from None
    if monday.strftime("%G-W%V") != week:
        raise ValueError("not an ISO week of that year")
    return week


Code = text(40)
Name = text(100)
ShortText = text(200)
LongText = text(4000)
OptionalText = text(4000, min_length=0)
PhoneText = text(60)
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
Money = Annotated[
    Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)
]
SignedMoney = Annotated[Decimal, Field(max_digits=12, decimal_places=2, allow_inf_nan=False)]
Area = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]
