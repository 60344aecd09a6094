"""OpenAPI links from a created record to what can be done with it, added to the generated schema.

Clients (and schemathesis' stateful runs) follow them: `POST /estates/{estate_id}/fee-items`
answers a FeeItemDetail whose `id` is the `item_id` of `GET /fee-items/{item_id}`,
`POST /fee-items/{item_id}/prices`, and so on. Rather than writing each by hand, a link is
derived wherever the URL layout says so:

- a 201 answer of `POST .../<things>` whose schema is named for a `<thing>` (UnitRead, FeeItemDetail)
  links its `id` to every operation under `/<things>/{param}`;
- a `<thing>_id` field of any 2xx answer links to every operation under `/<things>/{param}`
  (a service request's `work_order_id` to `/work-orders/{order_id}`...).

Links already in the schema are kept; only missing ones are added.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

_SUFFIXES = ("WithSecret", "Created", "Detail", "Posted", "Read")
# Every operation is under an estate or a company: linking these would link everything to everything.
_TOO_BROAD = {"estate_id", "company_id", "id"}
_PARAM = re.compile(r"^\{([a-z_]+)\}$")


def _schema_name(response: dict[str, Any]) -> str | None:
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _thing(schema_name: str) -> str:
    """FeeItemDetail -> feeitem; WebhookWithSecret -> webhook."""
    for suffix in _SUFFIXES:
        if schema_name.endswith(suffix) and schema_name != suffix:
            schema_name = schema_name[: -len(suffix)]
            break
    return schema_name.lower()


def _singulars(collection: str) -> set[str]:
    plain = collection.replace("-", "").replace("_", "")
    return {plain, plain[:-1], plain[:-2]} if plain.endswith("s") else {plain}


def _targets(schema: dict[str, Any], collection: str) -> Iterator[tuple[str, str]]:
    """(operationId, path parameter) of every operation under /<collection>/{param}."""
    for path, ops in schema["paths"].items():
        parts = path.strip("/").split("/")
        for i in range(len(parts) - 1):
            if parts[i] == collection and (found := _PARAM.match(parts[i + 1])) and (i == 0 or not _PARAM.match(parts[i - 1])):
                param = found.group(1)
                if all(not _PARAM.match(p) or p == parts[i + 1] for p in parts):  # nothing else to fill
                    yield from ((op["operationId"], param) for op in ops.values() if "operationId" in op)
                break


def _link(response: dict[str, Any], operation_id: str, param: str, expression: str) -> None:
    links = response.setdefault("links", {})
    name = f"{operation_id}.{param}"
    links.setdefault(name, {"operationId": operation_id, "parameters": {param: expression}})


def add_links(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.get("components", {}).get("schemas", {})
    for path, ops in schema["paths"].items():
        collection = path.rstrip("/").rsplit("/", 1)[-1]
        for method, op in ops.items():
            for status, response in op.get("responses", {}).items():
                name = _schema_name(response)
                if not status.startswith("2") or name is None:
                    continue
                if method == "post" and status == "201" and not _PARAM.match(collection) and _thing(name) in _singulars(collection):
                    for target, param in _targets(schema, collection):
                        _link(response, target, param, "$response.body#/id")
                for field, spec in components.get(name, {}).get("properties", {}).items():
                    if field.endswith("_id") and field not in _TOO_BROAD and spec.get("type") != "array":
                        for target, param in _targets(schema, field[: -len("_id")].replace("_", "-") + "s"):
                            _link(response, target, param, f"$response.body#/{field}")
    return schema


def install(app: FastAPI, *steps: Callable[[dict[str, Any]], Any]) -> None:
    """Wrap app.openapi (after errors.install) so the served schema carries the links, then
    whatever else `steps` add (each edits the generated schema in place, once)."""
    original: Callable[[], dict[str, Any]] = app.openapi
    done = False

    def openapi() -> dict[str, Any]:
        nonlocal done
        schema = original()
        if not done:
            for step in (add_links, *steps):
                step(schema)
            done = True
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to post-process the schema
