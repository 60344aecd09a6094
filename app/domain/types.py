"""Input types that refuse what PostgreSQL would refuse, so bad input is a 422, not a 500."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

INT32_MAX = 2**31 - 1


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; say so at the edge.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _text(max_length: int, min_length: int = 1):
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_no_nul),
    ]


Code = _text(40)
Name = _text(100)
ShortText = _text(200)
LongText = _text(4000)
OptionalText = _text(4000, min_length=0)
PhoneText = _text(60)
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
Money = Annotated[
    Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)
]
SignedMoney = Annotated[Decimal, Field(max_digits=12, decimal_places=2, allow_inf_nan=False)]
Area = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]
