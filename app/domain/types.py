"""Input types that refuse what PostgreSQL would refuse, so bad input is a 422, not a 500."""
from __future__ import annotations

import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FutureDate,
    FutureDatetime,
    NaiveDatetime,
    PastDate,
    PastDatetime,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.domain.calendar import estate_time

INT32_MAX = 2**31 - 1


def no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; say so at the edge.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


@dataclass(frozen=True, slots=True)
class TextConstraints(GroupedMetadata):
    """Stripped, min_length..max_length characters, without NUL: the metadata of `text()`."""

    max_length: int
    min_length: int = 1

    def __iter__(self) -> Iterator[object]:
        yield StringConstraints(strip_whitespace=True, min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(no_nul)


def text(max_length: int, min_length: int = 1) -> TextConstraints:
    """Input text as the database can hold it: `Note = Annotated[str, text(2000, min_length=0)]`.

    Metadata rather than a type made at run time, so that type checkers read the alias as str.
    """
    return TextConstraints(max_length=max_length, min_length=min_length)


# Years the office's paper can be about; keeps local-midnight arithmetic far from datetime's edges.
WEEK_PATTERN = r"^20\d{2}-W\d{2}$"
MONTH_PATTERN = r"^20\d{2}-(0[1-9]|1[0-2])$"


def real_week(week: str) -> str:
    """2026-W60 matches the pattern but names no week; 2025-W53 would silently become 2026-W01."""
    estate_time.week_monday(week)
    return week


Code = Annotated[str, text(40)]
Name = Annotated[str, text(100)]
ShortText = Annotated[str, text(200)]
LongText = Annotated[str, text(4000)]
OptionalText = Annotated[str, text(4000, min_length=0)]
PhoneText = Annotated[str, text(60)]
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
Money = Annotated[
    Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)
]
SignedMoney = Annotated[Decimal, Field(max_digits=12, decimal_places=2, allow_inf_nan=False)]
Area = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]


# --- exact input: one spelling per value ------------------------------------------------
# Pydantic's lax mode reads "1_000", "١٢" (Arabic-Indic), "１２" (full-width) and "1e2" as
# numbers, 0 as false, 0 as 1970-01-01 and 0.5 as an epoch instant. A typo then becomes a
# plausible value. JSON bodies are validated in Python mode (FastAPI parses them first), so
# pydantic's strict mode would refuse ISO date strings too; these checks run before it instead.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 (the profile of ISO 8601 that OpenAPI's date-time names): an offset is required.
ISO_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})")
ISO_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?")
QUERY_INT = re.compile(r"-?[0-9]+")
_DATETIMES = (datetime, AwareDatetime, NaiveDatetime, FutureDatetime, PastDatetime)
_DATES = (date, FutureDate, PastDate)


def _decimal(value: Any) -> str | None:
    if isinstance(value, bool) or (isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value)):
        return "must be a plain decimal number such as 12.50 (ASCII digits, no exponent or separators)"
    return None


def _date(value: Any) -> str | None:
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return None
    return "must be a date written YYYY-MM-DD"


def _instant(value: Any) -> str | None:
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_INSTANT.fullmatch(value)):
        return None
    return "must be an ISO 8601 date and time with a UTC offset, such as 2026-12-03T09:30:00+08:00"


def _time(value: Any) -> str | None:
    # Lax mode reads 3600 as 01:00.
    if isinstance(value, time) or (isinstance(value, str) and ISO_TIME.fullmatch(value)):
        return None
    return "must be a time written HH:MM"


def _json_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _json_int(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return "must be a whole number (a JSON integer, not a string or 8.0)"


def refusal(annotation: Any, value: Any) -> str | None:
    """Why `value` is not written the one way a field of this type takes; None when it is."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return refusal(get_args(annotation)[0], value)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        found = [refusal(member, value) for member in get_args(annotation) if member is not type(None)]
        return None if not found or None in found else found[0]
    if origin in (list, set, frozenset, tuple) and isinstance(value, (list, tuple)):
        items = [a for a in get_args(annotation) if a is not Ellipsis]
        return next((p for v in value for p in [refusal(items[0], v)] if p), None) if len(items) == 1 else None
    if origin is not None or not isinstance(annotation, type) or issubclass(annotation, Enum):
        return None
    if annotation is bool:
        return _json_bool(value)
    if annotation is int:
        return _json_int(value)
    if annotation is Decimal:
        return _decimal(value)
    if annotation in _DATETIMES:
        return _instant(value)
    if annotation in _DATES:
        return _date(value)
    if annotation is time:
        return _time(value)
    return None


class InputModel(BaseModel):
    """The base of every request body: unknown fields are refused, and each value must be
    written the one way its JSON type says (true/false, whole numbers, plain decimals,
    YYYY-MM-DD, RFC 3339 instants). Read schemas and tables do not inherit it."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _written_exactly(cls, data: Any) -> Any:
        # A model-level check: a field-level "*" validator is not allowed on a discriminator field.
        if not isinstance(data, dict):
            return data
        fields = {**cls.model_fields, **{f.alias: f for f in cls.model_fields.values() if f.alias}}
        errors = [InitErrorDetails(type=PydanticCustomError("inexact_input", problem), loc=(key,), input=value)
                  for key, value in data.items() if key in fields
                  for problem in [refusal(fields[key].annotation, value)] if problem]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return data


class Patch(InputModel):
    """A partial update: only the fields sent change; null only where the column may be empty."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _no_null_for_required(cls, data: Any) -> Any:
        # Before validation, on the body as sent, so each refusal names its field: an "after"
        # model validator can only name the body as a whole.
        if not isinstance(data, dict):
            return data
        errors = [InitErrorDetails(type=PydanticCustomError("null_not_allowed", "{field} may not be null", {"field": key}),
                                   loc=(key,), input=None)
                  for key, value in data.items() if value is None and key in cls.model_fields and key not in cls.nullable]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return data


# --- query and path parameters (always strings on the wire) ------------------------------
# Put these after Query()/Path() in the Annotated: a validator placed before the constraints
# makes pydantic write them into the OpenAPI document as unknown keys ("ge") instead of
# minimum/maximum.

def _checked(check: Any) -> Any:
    def validate(value: Any) -> Any:
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value
    return validate


def _query_flag(value: Any) -> Any:
    # true/false in any case (Python's requests sends "True"); not 1/0, yes/no, on/off: the
    # schema says boolean, and JSON spells a boolean one way.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError("must be true or false")


def _query_int(value: Any) -> Any:
    # Lax int() reads "1.0", "1_000", " 1" and "+1" too.
    if isinstance(value, str) and not QUERY_INT.fullmatch(value):
        raise ValueError("must be a whole number written with ASCII digits")
    return value


EXACT_DAY = BeforeValidator(_checked(_date))
EXACT_INSTANT = BeforeValidator(_checked(_instant))
EXACT_FLAG = BeforeValidator(_query_flag)
EXACT_INT = BeforeValidator(_query_int)
EXACT_DECIMAL = BeforeValidator(_checked(_decimal))
Day = Annotated[date, EXACT_DAY]
Instant = Annotated[AwareDatetime, EXACT_INSTANT]
QueryFlag = Annotated[bool, EXACT_FLAG]
