"""Malformed input is a 422 problem naming the field, never a 500, and writes nothing.

Hand-picked cases for the foundation's routes, then a sweep over every JSON body and
path/query parameter in the OpenAPI schema so that routes added later are covered too.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.config import Settings
from app.domain.auth.roles import Role
from tests.factories import make_estate, make_staff
from tests.helpers.bad_input import api_operations, counts, fill_path, resolve_ref, schema_variants, user_body
from tests.helpers.problems import PROBLEM, assert_422

BODY_CAP = 2048 + 64 * 1024  # this module's max_request_bytes
NUL = "a\x00b"


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, scheduler_enabled=False,
                    log_json=False, max_request_bytes=BODY_CAP)


@pytest.fixture
async def admin(session):
    estate = await make_estate(session)
    # Every role, so that no route answers 403 before it reads its input.
    return await make_staff(session, estates=[estate], roles=list(Role), username="admin.err")


BIG_INTS = [2**31, 2**63, 10**30, -(2**63) - 1]


class TestHandPicked:
    async def test_login(self, client, app):
        before = await counts(app)
        for body, field in [
            ({"username": NUL, "password": "x"}, "username"),
            ({"username": "x", "password": NUL}, "password"),
            ({"username": "x" * 61, "password": "x"}, "username"),
            ({"username": "x", "password": "x" * 129}, "password"),
            ({"username": 12, "password": "x"}, "username"),
            ({"username": ["x"], "password": "x"}, "username"),
        ]:
            assert_422(await client.post("/api/v1/auth/login", json=body), field)
        assert await counts(app) == before

    async def test_users_create(self, client, app, admin):
        before = await counts(app)
        h = admin.headers
        cases = [
            (user_body(full_name=NUL), "full_name"),
            (user_body(phone="138\x00"), "phone"),
            (user_body(username="x" * 61), "username"),
            (user_body(full_name="名" * 101), "full_name"),
            (user_body(phone="1" * 61), "phone"),
            (user_body(password="p" * 129), "password"),
            (user_body(estate_ids=["not-a-uuid"]), "estate_ids.0"),
            (user_body(estate_ids=[str(uuid.uuid4())[:-1] + "g"]), "estate_ids.0"),
            (user_body(estate_ids=[str(uuid.uuid4())] * 501), "estate_ids"),
            (user_body(roles=["admin"] * 11), "roles"),
            (user_body(roles=[2**63]), "roles.0"),
        ]
        for body, field in cases:
            assert_422(await client.post("/api/v1/users", json=body, headers=h), field)
        assert await counts(app) == before

    async def test_not_json_and_wrong_shape(self, client, app, admin):
        before = await counts(app)
        r = await client.post("/api/v1/users", content=b"{not json", headers={**admin.headers, "content-type": "application/json"})
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["type"] == "/problems/validation-failed"
        r = await client.post("/api/v1/users", json=[1, 2], headers=admin.headers)
        assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["type"] == "/problems/validation-failed"
        # Bytes that are not text at all: the framework answers 400; still a problem, never a 500.
        r = await client.post("/api/v1/users", content=b"\xff\xfe\x00", headers={**admin.headers, "content-type": "application/json"})
        assert r.status_code in (400, 422) and r.headers["content-type"].startswith(PROBLEM)
        assert await counts(app) == before

    async def test_users_list_query(self, client, admin):
        h = admin.headers
        for params, field in [
            ({"q": NUL}, "q"),
            ({"q": "x" * 101}, "q"),
            ({"estate_id": "nope"}, "estate_id"),
            ({"role": "janitor"}, "role"),
            ({"sort": NUL}, "sort"),
            ({"sort": "x" * 50}, "sort"),
            *[({"limit": n}, "limit") for n in BIG_INTS],
            ({"limit": 201}, "limit"),
            ({"limit": 0}, "limit"),
            ({"limit": "1e3"}, "limit"),
            ({"offset": 2**63}, "offset"),
            ({"offset": -1}, "offset"),
        ]:
            assert_422(await client.get("/api/v1/users", params=params, headers=h), field)

    async def test_audit_list_query(self, client, admin):
        h = admin.headers
        for params, field in [
            ({"since": "2024-13-45"}, "since"),
            ({"until": "31/12/2024"}, "until"),
            ({"since": "2024-01-01T25:00:00"}, "since"),
            ({"since": "99999-01-01"}, "since"),
            ({"since": NUL}, "since"),
            ({"actor_id": "1234"}, "actor_id"),
            ({"estate_id": NUL}, "estate_id"),
            ({"entity_id": NUL}, "entity_id"),
            ({"entity": "x" * 65}, "entity"),
            ({"limit": 10**12}, "limit"),
        ]:
            assert_422(await client.get("/api/v1/audit", params=params, headers=h), field)

    async def test_malformed_uuid_in_path(self, client, app, admin):
        before = await counts(app)
        for method, url, json in [
            ("GET", "/api/v1/users/not-a-uuid", None),
            ("GET", "/api/v1/users/%00", None),
            ("GET", f"/api/v1/users/{'1' * 300}", None),
            ("PATCH", "/api/v1/users/123", {"full_name": "x"}),
            ("POST", "/api/v1/users/123/reset-password", {"new_password": "long-enough-pw"}),
            ("POST", "/api/v1/api-keys/zzz/revoke", None),
        ]:
            r = await client.request(method, url, json=json, headers=admin.headers)
            field = "key_id" if "api-keys" in url else "user_id"
            assert_422(r, field)
        assert await counts(app) == before


class TestHttpErrors:
    async def test_unknown_route_is_404_problem(self, client):
        for url in ("/api/v1/nowhere", "/nowhere", "/api/v2/users"):
            r = await client.get(url)
            assert r.status_code == 404, url
            assert r.headers["content-type"].startswith(PROBLEM)
            assert r.json()["status"] == 404

    async def test_wrong_method_is_405_problem(self, client, admin):
        for method, url in [("DELETE", "/api/v1/users"), ("PUT", "/api/v1/auth/login"), ("GET", "/api/v1/auth/logout")]:
            r = await client.request(method, url, headers=admin.headers)
            assert r.status_code == 405, (method, url)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert "allow" in {k.lower() for k in r.headers}

    async def test_declared_body_over_the_cap_is_413(self, client, app, admin):
        before = await counts(app)
        big = b"x" * (BODY_CAP + 1)
        r = await client.post("/api/v1/users", content=big, headers={**admin.headers, "content-type": "application/json"})
        assert r.status_code == 413
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["status"] == 413
        assert await counts(app) == before

    async def test_streamed_body_over_the_cap_is_413(self, client, admin):
        async def chunks():
            for _ in range(80):
                yield b"x" * 1024

        r = await client.post("/api/v1/users", content=chunks(), headers={**admin.headers, "content-type": "application/json"})
        assert r.status_code == 413
        assert r.headers["content-type"].startswith(PROBLEM)


# --- the sweep: every route in the schema -------------------------------------------------


def _bad_values(schema: dict, prop: dict) -> list[Any]:
    """Values that must be refused for this property, whatever its type."""
    out: list[Any] = []
    for v in schema_variants(schema, prop):
        kind = v.get("type")
        if kind == "string" and v.get("format") in ("uuid", "date", "date-time"):
            out += ["not-a-" + v["format"], NUL]
        elif kind == "string" and "enum" not in v:
            out.append(NUL)
            if "maxLength" in v:
                out.append("x" * (v["maxLength"] + 1))
        elif kind == "integer":
            out += [2**63, 10**30] if "maximum" not in v else [v["maximum"] + 1, 2**63]
    return out


async def test_every_json_body_field_refuses_malformed_values(client, app, admin):
    schema = app.openapi()
    before = await counts(app)
    checked = 0
    for method, path, op in api_operations(app):
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        body_schema = resolve_ref(schema, content["application/json"]["schema"])
        for name, prop in body_schema.get("properties", {}).items():
            for bad in _bad_values(schema, prop):
                r = await client.request(method, fill_path(path, op), json={name: bad}, headers=admin.headers)
                assert_422(r, name)
                checked += 1
    assert checked > 15
    assert await counts(app) == before


async def test_every_parameter_refuses_malformed_values(client, app, admin):
    schema = app.openapi()
    before = await counts(app)
    checked = 0
    for method, path, op in api_operations(app):
        for param in op.get("parameters", []):
            if param["in"] not in ("path", "query"):
                continue
            for bad in _bad_values(schema, param.get("schema", {})):
                url = fill_path(path, op)
                params = {}
                if param["in"] == "path":
                    # NUL cannot travel in a URL path; a malformed value can.
                    if bad == NUL:
                        continue
                    url = path.replace("{" + param["name"] + "}", str(bad))
                    url = fill_path(url, op)
                else:
                    params = {param["name"]: bad}
                r = await client.request(method, url, params=params, headers=admin.headers,
                                         json={} if method in ("POST", "PATCH", "PUT") else None)
                assert_422(r, param["name"])
                checked += 1
    assert checked > 10
    assert await counts(app) == before
