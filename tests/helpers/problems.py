"""Checks that an answer is the problem expected: its type, or for bad input the field it names."""
from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"


def assert_422(r: httpx.Response, field: str) -> None:
    assert r.status_code == 422, (r.request.method, r.request.url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    named = [e["field"] for e in body.get("errors", [])] + [body.get("field")]
    assert any(n == field or (n or "").startswith(field + ".") for n in named), (field, body)
    assert "Traceback" not in r.text


def assert_problem(r: httpx.Response, status: int, problem: str) -> dict[str, Any]:
    """The answer is the problem `problem` (its type's last part) with this status; returns its body."""
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == f"/problems/{problem}", body
    return body


def assert_invalid(r: httpx.Response, problem: str, field: str | None = None) -> None:
    """A 422 that is `problem` (its type's last part) and, when given, names `field`."""
    assert_problem(r, 422, problem)
    if field is not None:
        assert_422(r, field)
