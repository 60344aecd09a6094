"""The published API description: documented errors as problems, and docs that work offline."""
from __future__ import annotations

import re

import pytest

PROBLEM = "application/problem+json"


@pytest.fixture
def schema(app) -> dict:
    return app.openapi()


def api_operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(m.upper(), p, op) for p, item in schema["paths"].items() if p.startswith("/api/v1/")
            for m, op in item.items()]


def test_there_are_operations(schema):
    assert len(api_operations(schema)) >= 10


def test_every_operation_declares_401(schema):
    missing = [f"{m} {p}" for m, p, op in api_operations(schema) if "401" not in op["responses"]]
    assert not missing, f"no 401 documented: {missing}"


def test_every_operation_has_a_summary_and_a_description(schema):
    missing = [f"{m} {p}" for m, p, op in api_operations(schema)
               if not op.get("summary") or not (op.get("description") or "").strip()]
    assert not missing, f"add a docstring to: {missing}"


def test_every_operation_id_is_unique(schema):
    ids = [op["operationId"] for _, _, op in api_operations(schema)]
    assert len(ids) == len(set(ids))


def test_operation_ids_are_short_snake_case_names(schema):
    # Generated clients use them as method names: take_payment(), list_work_orders().
    wrong = [op["operationId"] for _, _, op in api_operations(schema)
             if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", op["operationId"]) or len(op["operationId"]) > 40]
    assert not wrong, wrong
    ids = {op["operationId"] for _, _, op in api_operations(schema)}
    assert {"take_payment", "list_work_orders", "create_service_request", "dispatch_order"} <= ids


def test_every_tag_in_use_is_described(schema):
    described = {t["name"] for t in schema["tags"] if t.get("description")}
    used = {t for _, _, op in api_operations(schema) for t in op.get("tags", [])}
    assert used <= described, sorted(used - described)


def test_every_schema_name_is_plain_and_unique(schema):
    # A clash makes FastAPI fall back to module paths (app__domain__repairs__model__Channel),
    # and openapi-python-client then drops operations; every name must be a plain identifier.
    wrong = [name for name in schema["components"]["schemas"] if not re.fullmatch(r"[A-Z][A-Za-z0-9_]*", name)
             or "__" in name or "api_v1" in name]
    assert not wrong, wrong


# Called by a payment channel, answered in the channel's own format ({"code": "FAIL", "message": ...}, `failure`).
CHANNEL_FORMAT = {("POST", "/api/v1/payment-channels/wechat/notify/{estate_id}"),
                  ("POST", "/api/v1/payment-channels/alipay/notify/{estate_id}"),
                  ("POST", "/api/v1/payment-channels/wechat/refund-notify/{estate_id}")}


def test_every_error_response_is_a_problem(schema):
    wrong = []
    for method, path, op in api_operations(schema):
        for status, response in op["responses"].items():
            if status.startswith("2") or status.startswith("3"):
                continue
            if (method, path) in CHANNEL_FORMAT and status in {"400", "401", "404", "503"}:
                continue
            content = response.get("content", {})
            if set(content) != {PROBLEM}:
                wrong.append(f"{method} {path} {status}: {sorted(content)}")
    assert not wrong, "error responses not documented as application/problem+json:\n" + "\n".join(wrong)


def test_problem_schema_has_the_rfc9457_members(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status"} <= set(problem["required"])
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])


def test_list_operations_bound_the_page_size(schema):
    for method, path, op in api_operations(schema):
        for param in op.get("parameters", []):
            if param["name"] == "limit":
                assert param["schema"].get("maximum", 10**9) <= 1000, f"{method} {path}"


def test_every_sortable_list_lists_its_sort_keys(schema):
    # A free-text sort would leave clients guessing; each key comes with its -descending form.
    sorts = [(f"{m} {p}", param["schema"]) for m, p, op in api_operations(schema)
             for param in op.get("parameters", []) if param["name"] == "sort" and param["in"] == "query"]
    assert len(sorts) >= 40
    for where, sort in sorts:
        keys = [v for v in sort.get("enum", []) if not v.startswith("-")]
        assert keys and sort["enum"] == [v for k in keys for v in (k, f"-{k}")], where


async def test_docs_are_served_without_a_cdn(client):
    r = await client.get("/docs")
    assert r.status_code == 200
    html = r.text
    assert "/static/docs/swagger-ui-bundle.js" in html
    assert "/static/docs/swagger-ui.css" in html
    assert not re.findall(r"https?://", html), re.findall(r"https?://[^\s\"']+", html)


async def test_redoc_is_served_without_a_cdn(client):
    redoc = await client.get("/redoc")
    assert redoc.status_code == 200
    assert "/static/docs/redoc.standalone.js" in redoc.text
    assert not re.findall(r"(?:src|href)=\"https?://", redoc.text)


@pytest.mark.parametrize("asset", ["swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"])
async def test_docs_assets_are_served(client, asset):
    r = await client.get(f"/static/docs/{asset}")
    assert r.status_code == 200
    assert len(r.content) > 10_000
    assert ("javascript" in r.headers["content-type"]) or ("css" in r.headers["content-type"])


async def test_openapi_json_is_served(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    assert r.json()["info"]["title"] == "PropDesk"
