"""The bad-input sweep's pieces: the OpenAPI operations, their schemas resolved, paths filled in, what a request writes."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from app.domain.audit.model import AuditEntry
from app.domain.auth.model import ApiKey, User


async def counts(app) -> tuple[int, int, int]:
    async with app.state.sessionmaker() as s:
        return tuple([(await s.execute(select(func.count()).select_from(t))).scalar_one()
                      for t in (User, ApiKey, AuditEntry)])


def user_body(**over: Any) -> dict[str, Any]:
    return {"username": f"u{uuid.uuid4().hex[:8]}", "password": "a-long-password", "full_name": "王芳",
            "roles": ["receptionist"], "estate_ids": [str(uuid.uuid4())], **over}


def resolve_ref(schema: dict, node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return resolve_ref(schema, schema["components"]["schemas"][name])
    return node


def schema_variants(schema: dict, prop: dict) -> list[dict]:
    """The alternatives of anyOf (Optional fields), resolved."""
    prop = resolve_ref(schema, prop)
    return [resolve_ref(schema, p) for p in prop.get("anyOf", [prop])]


def api_operations(app) -> list[tuple[str, str, dict]]:
    schema = app.openapi()
    return [(m.upper(), p, op) for p, ops in schema["paths"].items() if p.startswith("/api/v1/")
            for m, op in ops.items()]


def fill_path(path: str, op: dict) -> str:
    for param in op.get("parameters", []):
        if param["in"] == "path":
            fmt = param.get("schema", {}).get("format")
            path = path.replace("{" + param["name"] + "}", str(uuid.uuid4()) if fmt == "uuid" else "x")
    return path
