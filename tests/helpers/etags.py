"""ETag / If-Match checks shared by the tests of editable records (issue 19)."""
from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests.helpers.problems import assert_problem

STRONG = re.compile(r'^"([0-9]+)"$')


def version_of(r: httpx.Response) -> int:
    """The version a 200 shows: its ETag header, strong and quoted, agreeing with the body's `version`."""
    assert r.status_code == 200, (r.request.method, r.request.url, r.status_code, r.text[:300])
    tag = r.headers.get("etag")
    assert tag is not None, (r.request.method, r.request.url, dict(r.headers))
    m = STRONG.match(tag)
    assert m, tag
    assert r.json()["version"] == int(m.group(1)), (tag, r.json().get("version"))
    return int(m.group(1))


def if_match(version: int | str, headers: dict[str, str]) -> dict[str, str]:
    tag = version if isinstance(version, str) else f'"{version}"'
    return {**headers, "If-Match": tag}


def assert_stale(r: httpx.Response, *, current: int) -> dict[str, Any]:
    """A 412 precondition-failed naming the record's current ETag (in the body and the header)."""
    body = assert_problem(r, 412, "precondition-failed")
    assert body["current_etag"] == f'"{current}"', body
    assert r.headers.get("etag") == f'"{current}"'
    return body


async def race(client: httpx.AsyncClient, method: str, url: str, bodies: list[dict], *, version: int,
               headers: dict[str, str]) -> list[httpx.Response]:
    """The edits sent at once, each with If-Match naming `version`: each request runs in its own session."""
    return list(await asyncio.gather(*[client.request(method, url, json=b, headers=if_match(version, headers)) for b in bodies]))
