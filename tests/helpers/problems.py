"""Checks that an answer is the problem expected: its type, or for bad input the field it names."""
from __future__ import annotations

import httpx

PROBLEM = "application/problem+json"


def assert_422(r: httpx.Response, field: str) -> None:
    assert r.status_code == 422, (r.request.method, r.request.url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    named = [e["field"] for e in body.get("errors", [])] + [body.get("field")]
    assert any(n == field or (n or "").startswith(field + ".") for n in named), (field, body)
    assert "Traceback" not in r.text
