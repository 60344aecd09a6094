"""One spelling per value: no lax coercion, no unknown fields, a truthful Allow.

Amounts are plain decimals ("12.50") or JSON numbers; booleans are true/false; dates are
YYYY-MM-DD; instants are RFC 3339 with an offset; whole numbers are whole numbers. In JSON
bodies and in query and path parameters alike, so that "1_000", "١٢", 0 or 0.5 are a 422
naming the field, never a plausible value. Every request body refuses fields it does not
know. A 405 lists every method of the path.
"""
from __future__ import annotations

import typing
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import fastapi.routing
import pytest
from pydantic import BaseModel
from sqlalchemy import func, select

from app.domain.auth.model import User
from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, FeeItem
from app.domain.fees.payments.model import Payment
from app.domain.registry.model import Owner
from tests.factories import make_estate, make_staff
from tests.fees_factories import make_fee_item
from tests.helpers.bad_input import api_operations, counts, fill_path, resolve_ref, schema_variants, user_body
from tests.helpers.problems import PROBLEM, assert_422
from tests.registry_factories import make_building, make_owner, make_unit

API = "/api/v1"
LAX_AMOUNTS = ["1_000", "١٢", "１２", "1e2", " 12", "+12", "12.", ".5", True]


@pytest.fixture
async def w(session):
    """An estate with a unit, an owner and a fee item, and a user holding every role there."""
    estate = await make_estate(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate))
    owner = await make_owner(session, estate=estate, units=[unit])
    item = await make_fee_item(session, estate=estate)
    admin = await make_staff(session, estates=[estate], roles=list(Role), username=f"exact{uuid.uuid4().hex[:6]}")

    class W:
        pass

    w = W()
    w.estate, w.unit, w.owner, w.item, w.admin, w.h = estate, unit, owner, item, admin, admin.headers
    return w


async def rows(app, model: type) -> int:
    async with app.state.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


def assert_refused(r, field: str) -> None:
    assert_422(r, field)
    assert r.json()["type"] == "/problems/validation-failed"


class TestLaxBodies:
    async def test_amounts_are_plain_decimals(self, client, app, w):
        before = (await rows(app, Payment), await rows(app, Charge))
        for bad in LAX_AMOUNTS:
            r = await client.post(f"{API}/units/{w.unit.id}/payments", headers=w.h,
                                  json={"settle": "oldest_first", "amount": bad, "method": "cash"})
            assert_refused(r, "amount")
            r = await client.post(f"{API}/units/{w.unit.id}/charges", headers=w.h,
                                  json={"fee_item_id": str(w.item.id), "amount": bad, "description": "押金"})
            assert_refused(r, "amount")
        assert (await rows(app, Payment), await rows(app, Charge)) == before

    async def test_plain_amounts_still_pass(self, client, w):
        one_off = await make_fee_item_one_off(client, w)
        for good, stored in [("12.50", "12.50"), (12.5, "12.50"), (3, "3.00")]:
            r = await client.post(f"{API}/units/{w.unit.id}/charges", headers=w.h,
                                  json={"fee_item_id": one_off, "amount": good, "description": "押金"})
            assert r.status_code == 201, r.text
            assert r.json()["amount"] == stored
        r = await client.post(f"{API}/units/{w.unit.id}/charges", headers=w.h,
                              json={"fee_item_id": one_off, "amount": 12.345, "description": "押金"})
        assert_refused(r, "amount")

    async def test_booleans_are_true_or_false(self, client, app, w):
        for bad in (0, 1, "false", "no"):
            r = await client.patch(f"{API}/users/{w.admin.user.id}", json={"is_active": bad}, headers=w.h)
            assert_refused(r, "is_active")
            r = await client.patch(f"{API}/fee-items/{w.item.id}", json={"active": bad}, headers=w.h)
            assert_refused(r, "active")
        async with app.state.sessionmaker() as s:
            assert (await s.get(User, w.admin.user.id)).is_active is True
            assert (await s.get(FeeItem, w.item.id)).active is True

    async def test_dates_and_instants_are_iso_strings(self, client, app, w):
        before = await rows(app, FeeItem)
        base = {"code": "water", "name": "水费", "kind": "metered", "unit_price": "3.5", "effective_from": "2026-12-01"}
        for field, bad in [("effective_from", 0), ("effective_from", "0"), ("effective_from", 1764547200),
                           ("effective_from", "2026-12-01T00:00:00"), ("unit_price", "1e2"), ("applies_to_all", 0)]:
            r = await client.post(f"{API}/estates/{w.estate.id}/fee-items", json={**base, field: bad}, headers=w.h)
            assert_refused(r, field)
        assert await rows(app, FeeItem) == before
        complaint = {"channel": "phone", "category": "fees", "description": "收費有誤"}
        for bad in (0.5, 0, "0.5", "1700000000", "2026-12-03T10:00:00"):
            r = await client.post(f"{API}/estates/{w.estate.id}/complaints", json={**complaint, "received_at": bad}, headers=w.h)
            assert_refused(r, "received_at")
        r = await client.post(f"{API}/estates/{w.estate.id}/complaints", headers=w.h,
                              json={**complaint, "received_at": "2026-12-03T10:00:00+08:00"})
        assert r.status_code == 201, r.text

    async def test_whole_numbers_and_times(self, client, w):
        for bad in ("8", 8.0, True):
            r = await client.post(f"{API}/estates/{w.estate.id}/buildings", json={"name": "9号楼", "number": bad}, headers=w.h)
            assert_refused(r, "number")
        r = await client.patch(f"{API}/estates/{w.estate.id}", json={"morning_open": 28800}, headers=w.h)
        assert_refused(r, "morning_open")
        r = await client.patch(f"{API}/estates/{w.estate.id}", json={"morning_open": "08:30"}, headers=w.h)
        assert r.status_code == 200, r.text

    async def test_nested_lists_are_checked_too(self, client, w):
        r = await client.post(f"{API}/estates/{w.estate.id}/owners", headers=w.h,
                              json={"full_name": "李四", "units": [{"unit_id": str(w.unit.id), "is_primary": 1}]})
        assert r.status_code == 422 and "is_primary" in r.text, r.text
        assert_422(r, "units.0.is_primary")


async def make_fee_item_one_off(client, w) -> str:
    r = await client.post(f"{API}/estates/{w.estate.id}/fee-items", headers=w.h,
                          json={"code": "deposit", "name": "押金", "kind": "one_off", "unit_price": "0",
                                "effective_from": "2026-01-01"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


class TestLaxQueries:
    async def test_days(self, client, w):
        url = f"{API}/estates/{w.estate.id}/visitors"
        for bad in ("0", "20261203", "2026-12-03T00:00:00", "２０２６-12-03"):
            assert_refused(await client.get(url, params={"date": bad}, headers=w.h), "date")
        assert (await client.get(url, params={"date": "2026-12-03"}, headers=w.h)).status_code == 200
        for bad in ("0", "2026-12-03T00:00:00"):
            r = await client.put(f"{API}/estates/{w.estate.id}/duty-roster/{bad}", json={"assignments": []}, headers=w.h)
            assert_refused(r, "day")

    async def test_instants(self, client, w):
        for name in ("since", "until"):
            for bad in ("0.5", "0", "1700000000", "2026-12-03T10:00:00"):
                assert_refused(await client.get(f"{API}/audit", params={name: bad}, headers=w.h), name)
        ok = datetime(2026, 12, 3, 2, tzinfo=UTC)
        for good in (ok.isoformat(), "2026-12-03T10:00:00+08:00", "2026-12-03T02:00:00Z"):
            assert (await client.get(f"{API}/audit", params={"until": good}, headers=w.h)).status_code == 200
        url = f"{API}/estates/{w.estate.id}/stock-movements"
        assert_refused(await client.get(url, params={"from": "0.5"}, headers=w.h), "from")

    async def test_booleans(self, client, w):
        url = f"{API}/estates/{w.estate.id}/fee-items"
        # true/false only, in any case: 1/0, yes/no and on/off are refused like 0.5 and 2.
        for bad in ("0.5", "2", "1", "0", "yes", "off", "t"):
            assert_refused(await client.get(url, params={"active": bad}, headers=w.h), "active")
        for good in ("true", "false", "True", "FALSE"):
            assert (await client.get(url, params={"active": good}, headers=w.h)).status_code == 200

    async def test_whole_numbers_and_decimals(self, client, w):
        for bad in ("1.0", "1_0", "+1", " 1", "1e1"):
            assert_refused(await client.get(f"{API}/users", params={"limit": bad}, headers=w.h), "limit")
            assert_refused(await client.get(f"{API}/users", params={"offset": bad}, headers=w.h), "offset")
        assert (await client.get(f"{API}/users", params={"limit": "10", "offset": "0"}, headers=w.h)).status_code == 200
        url = f"{API}/estates/{w.estate.id}/rental-entrustments"
        for bad in ("1_000", "1e3", "１２"):
            assert_refused(await client.get(url, params={"rent_min": bad}, headers=w.h), "rent_min")
        assert (await client.get(url, params={"rent_min": "1500.50"}, headers=w.h)).status_code == 200


class TestUnknownFields:
    async def test_post_users(self, client, app, w):
        before = await counts(app)
        for extra in ({"is_admin": True}, {"company_id": str(uuid.uuid4())}, {"password_hash": "x"}):
            r = await client.post(f"{API}/users", json={**user_body(estate_ids=[str(w.estate.id)]), **extra}, headers=w.h)
            assert_refused(r, next(iter(extra)))
        assert await counts(app) == before

    async def test_owner_patch(self, client, app, w):
        other = await make_estate_id(app)
        r = await client.patch(f"{API}/owners/{w.owner.id}", json={"full_name": "王建民", "estate_id": other}, headers=w.h)
        assert_refused(r, "estate_id")
        async with app.state.sessionmaker() as s:
            owner = await s.get(Owner, w.owner.id)
            assert (owner.full_name, owner.estate_id) == ("王建國", w.estate.id)

    def test_every_json_request_body_refuses_unknown_fields(self, app):
        """Every object schema a request body reaches, nested ones included, says additionalProperties: false."""
        schema = app.openapi()
        open_objects: set[str] = set()
        seen: set[str] = set()

        def walk(node: Any, where: str) -> None:
            if isinstance(node, list):
                for item in node:
                    walk(item, where)
            if not isinstance(node, dict):
                return
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    target = schema["components"]["schemas"][name]
                    if "properties" in target and target.get("additionalProperties") is not False:
                        open_objects.add(f"{name} (in {where})")
                    walk(target, where)
                return
            for value in node.values():
                walk(value, where)

        for method, path, op in api_operations(app):
            for media_type, content in op.get("requestBody", {}).get("content", {}).items():
                if media_type == "multipart/form-data":
                    # FastAPI's own Body_… form schemas; their JSON parts (a voucher) are walked below.
                    walk(resolve_ref(schema, content["schema"]).get("properties", {}), f"{method} {path}")
                else:
                    walk(content["schema"], f"{method} {path}")
        assert len(seen) > 80
        assert not open_objects, sorted(open_objects)

    def test_every_route_body_model_is_an_input_model(self, app):
        """The same from the routes: the models bodies are parsed into (nested ones included) are InputModels."""
        from app.domain.types import InputModel

        def models(annotation: Any) -> list[type]:
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                nested = [m for f in annotation.model_fields.values() for m in models(f.annotation)]
                return [annotation, *nested]
            return [m for arg in typing.get_args(annotation) for m in models(arg)]

        found = {m for context in fastapi.routing.iter_route_contexts(app.routes)
                 for param in (getattr(context, "dependant", None) and context.dependant.body_params or [])
                 for m in models(param.field_info.annotation)}
        assert len(found) > 80
        assert not [m.__name__ for m in found if not issubclass(m, InputModel)]


class TestUnknownFormParts:
    async def test_roster_import_refuses_an_unknown_part(self, client, app, w):
        from app.domain.registry.model import Building

        before = await rows(app, Building)
        files = {"file": ("roster.csv", "楼号,单元,房号\n8,2,301\n".encode(), "text/csv")}
        # dry_run belongs in the query; sent as a form part it was ignored and the import was a dry run.
        r = await client.post(f"{API}/estates/{w.estate.id}/roster-imports", files=files, data={"dry_run": "false"}, headers=w.h)
        assert_refused(r, "dry_run")
        assert await rows(app, Building) == before

    async def test_photos_refuse_an_unknown_part(self, client, w):
        photo = {"photos": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")}
        for url in (f"{API}/rental-entrustments/{uuid.uuid4()}/photos", f"{API}/vouchers/{uuid.uuid4()}/files"):
            r = await client.post(url, files=photo, data={"caption": "客廳"}, headers=w.h)
            assert_refused(r, "caption")

    async def test_declared_parts_still_pass(self, client, w):
        r = await client.post(f"{API}/rental-entrustments/{uuid.uuid4()}/photos", headers=w.h,
                              files={"photos": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")})
        assert r.status_code == 404, r.text

    async def test_the_caller_is_checked_first(self, client, w):
        r = await client.post(f"{API}/vouchers/{uuid.uuid4()}/files", data={"caption": "x"},
                              files={"photos": ("a.png", b"x", "image/png")})
        assert r.status_code == 401


async def make_estate_id(app) -> str:
    async with app.state.sessionmaker() as s:
        return str((await make_estate(s)).id)


class TestMethodNotAllowed:
    @pytest.mark.parametrize("method, path, allow", [
        ("DELETE", "/users", "GET, POST"),
        ("PUT", "/users/{id}", "GET, PATCH"),
        ("DELETE", "/owners/{id}", "GET, PATCH"),
        ("DELETE", "/fee-items/{id}", "GET, PATCH"),
        ("GET", "/auth/logout", "POST"),
    ])
    async def test_allow_lists_every_method_of_the_path(self, client, w, method, path, allow):
        r = await client.request(method, API + path.replace("{id}", str(uuid.uuid4())), headers=w.h)
        assert r.status_code == 405
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["type"] == "/problems/method-not-allowed"
        assert r.headers["allow"] == allow

    async def test_allow_matches_the_openapi_document_everywhere(self, client, app, w):
        for path, operations in app.openapi()["paths"].items():
            if not path.startswith(API) or "delete" in operations and "put" in operations:
                continue
            missing = "DELETE" if "delete" not in operations else "PUT"
            r = await client.request(missing, fill_path(path, next(iter(operations.values()))), headers=w.h)
            if r.status_code != 405:
                continue  # a sibling template (/estates/lookup vs /estates/{id}) took the path
            assert set(r.headers["allow"].split(", ")) >= {m.upper() for m in operations}, (path, r.headers["allow"])


# --- the sweep: every JSON body field and every parameter, by its declared type ------------

BODY_LAX = {"boolean": [0, 1, "true"], "integer": ["1", 1.0, True], "date": [0, "0", "2026-12-03T00:00:00"],
            "date-time": [0.5, "0.5", "1700000000", "2026-12-03T10:00:00"], "decimal": ["1_000", "١٢", "１２", "1e2", True]}
QUERY_LAX = {"boolean": ["0", "1", "yes", "0.5", "2"], "integer": ["1.0", "1_0", "+1"], "date": ["0", "20261203", "2026-12-03T00:00:00"],
             "date-time": ["0.5", "1700000000"], "decimal": ["1_000", "1e2", "１２"]}


def _kind(schema: dict, prop: dict) -> str | None:
    variants = [v for v in schema_variants(schema, prop) if v.get("type") != "null"]
    types = {v.get("type") for v in variants}
    if types == {"number", "string"}:
        return "decimal"  # pydantic's Decimal: a JSON number or a numeric string
    if len(variants) != 1 or "enum" in variants[0] or "const" in variants[0]:
        return None
    v = variants[0]
    if v.get("type") == "string":
        return v.get("format") if v.get("format") in ("date", "date-time") else None
    return {"boolean": "boolean", "integer": "integer", "number": "decimal"}.get(v.get("type"))


async def test_every_json_body_field_refuses_lax_spellings(client, app, w):
    schema = app.openapi()
    before = await counts(app)
    checked = 0
    for method, path, op in api_operations(app):
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        body_schema = resolve_ref(schema, content["application/json"]["schema"])
        for name, prop in body_schema.get("properties", {}).items():
            for bad in BODY_LAX.get(_kind(schema, prop) or "", []):
                r = await client.request(method, fill_path(path, op), json={name: bad}, headers=w.h)
                assert_422(r, name)
                checked += 1
    assert checked > 100
    assert await counts(app) == before


async def test_every_parameter_refuses_lax_spellings(client, app, w):
    schema = app.openapi()
    before = await counts(app)
    checked, accepted = 0, []
    for method, path, op in api_operations(app):
        for param in op.get("parameters", []):
            if param["in"] not in ("path", "query"):
                continue
            for bad in QUERY_LAX.get(_kind(schema, param.get("schema", {})) or "", []):
                url, params = fill_path(path, op), {}
                if param["in"] == "path":
                    url = fill_path(path.replace("{" + param["name"] + "}", bad), op)
                else:
                    params = {param["name"]: bad}
                r = await client.request(method, url, params=params, headers=w.h,
                                         json={} if method in ("POST", "PATCH", "PUT") else None)
                if r.status_code != 422 or param["name"] not in r.text:
                    accepted.append(f"{method} {path} {param['name']}={bad!r}: {r.status_code}")
                checked += 1
    assert not accepted, accepted
    assert checked > 60
    assert await counts(app) == before


def test_amount_rule_by_itself():
    from app.domain.types import InputModel, Money

    class Body(InputModel):
        amount: Money

    assert Body.model_validate({"amount": "12.50"}).amount == Decimal("12.50")
    assert Body.model_validate({"amount": 12.5}).amount == Decimal("12.5")
    for bad in LAX_AMOUNTS:
        with pytest.raises(ValueError):
            Body.model_validate({"amount": bad})
