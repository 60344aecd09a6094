"""The API contract: the committed docs/openapi.json, and the breaking changes against it.

    python tools/openapi_contract.py check        # exit 1 when the app's description differs from the committed one
    python tools/openapi_contract.py write        # write it, refusing a breaking change not announced
    python tools/openapi_contract.py dump PATH    # the app's description, for the client generators

A change is breaking when a client generated from the committed description stops working
against the new one: an operation or success status gone; a request that was valid refused (a
parameter or body field newly required, a field the body no longer takes, a value an enum no
longer takes, a type changed); an answer the client cannot read (a field it relied on gone or no
longer always there, a type changed, an enum value its generated enum does not know). Announce
one by adding `<operationId>: <what changed>` lines to docs/api-breaking-changes.txt, with the
release note, before writing.

Written here rather than with oasdiff (a Go binary, not on the registries this project installs
from): the rules above are the ones our generated clients (openapi-python-client's strict enums
and attrs models, openapi-typescript's types) actually break on, and they fit in a page.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "docs" / "openapi.json"
ANNOUNCED = ROOT / "docs" / "api-breaking-changes.txt"
METHODS = ("get", "put", "post", "patch", "delete")
Schema = dict[str, Any]


def current() -> Schema:
    from app.config import Settings
    from app.main import create_app

    return create_app(Settings()).openapi()


def render(schema: Schema) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


class _Walk:
    """Compares two schemas of one spot (a body, an answer), `reading` when the client reads it."""

    def __init__(self, old: Schema, new: Schema, out: list[str], where: str) -> None:
        self.old_doc, self.new_doc, self.out, self.where = old, new, out, where
        self.seen: set[tuple[str, str, bool]] = set()

    def _resolve(self, doc: Schema, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def _kinds(self, doc: Schema, schema: Schema) -> set[str]:
        """The types a value may have (a nullable field: its type and 'null')."""
        schema = self._resolve(doc, schema)
        if "anyOf" in schema or "oneOf" in schema:
            return set().union(*(self._kinds(doc, s) for s in schema.get("anyOf", schema.get("oneOf", []))))
        return {schema.get("type", "object" if "properties" in schema else "any")}

    def compare(self, old: Schema, new: Schema, *, reading: bool, path: str) -> None:
        key = (json.dumps(old, sort_keys=True), json.dumps(new, sort_keys=True), reading)
        if key in self.seen:  # a schema met again (or recursive): once is enough
            return
        self.seen.add(key)
        old_kinds, new_kinds = self._kinds(self.old_doc, old), self._kinds(self.new_doc, new)
        widened, narrowed = new_kinds - old_kinds - {"any"}, old_kinds - new_kinds - {"any"}
        if (reading and widened) or (not reading and narrowed):
            self.out.append(f"{self.where}: {path or 'the value'} {sorted(old_kinds)} -> {sorted(new_kinds)}")
        o, n = self._resolve(self.old_doc, old), self._resolve(self.new_doc, new)
        self._enums(o, n, reading=reading, path=path)
        self._fields(o, n, reading=reading, path=path)
        if "items" in o and "items" in n:
            self.compare(o["items"], n["items"], reading=reading, path=f"{path}[]")
        for branch in ("anyOf", "oneOf"):
            pairs = [(a, b) for a in o.get(branch, []) for b in n.get(branch, []) if a.get("$ref") and a.get("$ref") == b.get("$ref")]
            for a, b in pairs:
                self.compare(a, b, reading=reading, path=path)

    def _enums(self, o: Schema, n: Schema, *, reading: bool, path: str) -> None:
        if "enum" in o and "enum" in n:
            gone, added = set(o["enum"]) - set(n["enum"]), set(n["enum"]) - set(o["enum"])
            if (reading and added) or (not reading and gone):
                self.out.append(f"{self.where}: {path or 'enum'} values {sorted(map(str, added if reading else gone))}")

    def _fields(self, o: Schema, n: Schema, *, reading: bool, path: str) -> None:
        old_props, new_props = o.get("properties", {}), n.get("properties", {})
        old_req, new_req = set(o.get("required", [])), set(n.get("required", []))
        for name in old_props:
            spot = f"{path}.{name}" if path else name
            if name not in new_props:
                self.out.append(f"{self.where}: {spot} {'gone from the answer' if reading else 'no longer taken'}")
            elif reading and name in old_req and name not in new_req:
                self.out.append(f"{self.where}: {spot} no longer always in the answer")
            else:
                self.compare(old_props[name], new_props[name], reading=reading, path=spot)
        if not reading:
            for name in sorted(new_req - old_req):
                self.out.append(f"{self.where}: {path + '.' if path else ''}{name} newly required")


def _parameters(op: Schema) -> dict[tuple[str, str], Schema]:
    return {(p["in"], p["name"].lower() if p["in"] == "header" else p["name"]): p for p in op.get("parameters", [])}


def _operation(old_doc: Schema, new_doc: Schema, old: Schema, new: Schema, where: str, out: list[str]) -> None:
    walk = _Walk(old_doc, new_doc, out, where)
    old_params, new_params = _parameters(old), _parameters(new)
    for key, p in new_params.items():
        if p.get("required") and not old_params.get(key, {}).get("required"):
            out.append(f"{where}: {key[0]} parameter {key[1]} newly required")
        elif key in old_params:
            walk.compare(old_params[key].get("schema", {}), p.get("schema", {}), reading=False, path=f"{key[0]} {key[1]}")
    old_body = old.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    new_body = new.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if new.get("requestBody", {}).get("required") and not old.get("requestBody", {}).get("required"):
        out.append(f"{where}: a body is newly required")
    if old_body is not None and new_body is not None:
        walk.compare(old_body, new_body, reading=False, path="body")
    for status, answer in old.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        if status not in new.get("responses", {}):
            out.append(f"{where}: success status {status} gone")
            continue
        old_schema = answer.get("content", {}).get("application/json", {}).get("schema")
        new_schema = new["responses"][status].get("content", {}).get("application/json", {}).get("schema")
        if old_schema is not None and new_schema is not None:
            walk.compare(old_schema, new_schema, reading=True, path="answer")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What a client generated from `old` trips over in `new`, as `<operationId>: <what>` lines."""
    out: list[str] = []
    for path, ops in old["paths"].items():
        for method in METHODS:
            if method not in ops:
                continue
            where = ops[method].get("operationId", f"{method.upper()} {path}")
            if method not in new["paths"].get(path, {}):
                out.append(f"{where}: the operation is gone ({method.upper()} {path})")
                continue
            _operation(old, new, ops[method], new["paths"][path][method], where, out)
    return out


def announced() -> set[str]:
    if not ANNOUNCED.exists():
        return set()
    return {line.strip() for line in ANNOUNCED.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")}


def unannounced(old: Schema, new: Schema) -> list[str]:
    told = announced()
    return [change for change in breaking_changes(old, new) if change not in told]


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    schema = current()
    if command == "dump":
        Path(argv[2]).write_text(render(schema), encoding="utf-8")
        return 0
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8")) if SNAPSHOT.exists() else None
    if command == "check":
        if committed is None or render(committed) != render(schema):
            print("docs/openapi.json is not the app's description: run python tools/openapi_contract.py write", file=sys.stderr)
            return 1
        return 0
    if committed is not None and (changes := unannounced(committed, schema)):
        print("breaking changes not announced in docs/api-breaking-changes.txt:\n" + "\n".join(changes), file=sys.stderr)
        return 1
    SNAPSHOT.write_text(render(schema), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv))
