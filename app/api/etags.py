"""ETag and If-Match, in one place (issue 19).

GET of an editable record and the answer to its PATCH/PUT carry `ETag: "<version>"` (strong:
the version changes with every write of the row, app/domain/versions.py). A PATCH/PUT may send
`If-Match` with that tag; the service checks it against the row it locked, and a stale tag is
a 412. With PROPDESK_REQUIRE_IF_MATCH an edit without one is a 428.
"""
from __future__ import annotations

from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Header, Response

from app.api.deps import SettingsDep
from app.api.errors import Responses, problems
from app.domain.errors import DomainError
from app.domain.versions import IfMatchRequired, PreconditionFailed, etag

# One strong tag, or * (any current version). Weak tags (W/"3") never match under If-Match's
# strong comparison, and a list of tags names versions a client cannot have read at once.
IF_MATCH_PATTERN = r'^\s*(\*|"[0-9]{1,9}")\s*$'

IfMatchHeader = Annotated[str | None, Header(
    alias="If-Match", pattern=IF_MATCH_PATTERN,
    description='The ETag of the record as you read it ("7"), or * for any: a stale one is refused with 412 '
                "and nothing is written. Required (428 without it) when the office sets PROPDESK_REQUIRE_IF_MATCH.",
)]


def expected_version(settings: SettingsDep, if_match: IfMatchHeader = None) -> int | None:
    """The version the edit was based on; None: no condition (no header, or *)."""
    if if_match is None:
        if settings.require_if_match:
            raise IfMatchRequired("send If-Match with the ETag a GET of the record answered")
        return None
    tag = if_match.strip()
    return None if tag == "*" else int(tag.strip('"'))


ExpectedVersion = Annotated[int | None, Depends(expected_version)]


class HasVersion(Protocol):
    @property
    def version(self) -> int: ...


R = TypeVar("R", bound=HasVersion)


def tagged(response: Response, read: R) -> R:
    """The answer, with its ETag header set from the version it shows."""
    response.headers["ETag"] = etag(read.version)
    return read


ETAG_HEADER: dict[str, Any] = {"ETag": {
    "description": 'The record\'s version as a strong entity tag ("7"); send it back as If-Match to edit it',
    "required": True, "schema": {"type": "string"}}}


def _with_etag(out: Responses, status: int) -> Responses:
    out.setdefault(status, {})["headers"] = ETAG_HEADER
    return out


def read_responses(*errors: type[DomainError]) -> Responses:
    """`responses=` of the GET of an editable record: its errors, and the ETag of the 200."""
    return _with_etag(problems(*errors), 200)


def edit_responses(*errors: type[DomainError], status: int = 200) -> Responses:
    """`responses=` of a PATCH/PUT that honours If-Match: its errors, 412, 428, and the ETag."""
    return _with_etag(problems(*errors, PreconditionFailed, IfMatchRequired), status)
