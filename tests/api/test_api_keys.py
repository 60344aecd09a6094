"""Integration API keys: shown once, hashed, read-only, scoped to estates, revocable."""
from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from app.api.routes import ROUTERS
from app.domain.auth import secrets
from app.domain.auth.model import ApiKey
from app.domain.auth.roles import API_KEY_PERMS, Perm, Role
from app.domain.auth.schemas import ApiKeyScope
from tests.factories import make_estate, make_staff

API = "/api/v1"
KEYS = f"{API}/api-keys"
PROBLEM = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _get_routes() -> list[APIRoute]:
    # The areas' own routers: the app's route list nests them inside the /api/v1 router.
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute) and "GET" in r.methods]


def _needs(route: APIRoute, perm: Perm) -> bool:
    return any(getattr(d.call, "permission", None) == perm for d in route.dependant.dependencies)


def route_needing(app, perm: Perm) -> str | None:
    """A parameterless GET route guarded by `perm`, if the app has one yet."""
    for route in _get_routes():
        if "{" not in route.path and _needs(route, perm):
            return API + route.path
    return None


def estate_route_needing(perm: Perm) -> str | None:
    """A GET route of one estate guarded by `perm` that needs nothing but the estate, if any."""
    for route in _get_routes():
        dependant = route.dependant
        if [p.name for p in dependant.path_params] != ["estate_id"] or any(q.field_info.is_required() for q in dependant.query_params):
            continue
        if _needs(route, perm):
            return API + route.path
    return None


async def key_count(app) -> int:
    async with app.state.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(ApiKey))).scalar_one()


async def create_key(client, admin, estate_ids, scopes=("reports:read", "registry:read")) -> dict:
    body = {"name": "財務系統", "estate_ids": [str(e) for e in estate_ids], "scopes": list(scopes)}
    r = await client.post(KEYS, json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    return r.json()


class TestCreateKey:
    async def test_anonymous_401_and_non_admin_403(self, client, session, app):
        here = await make_estate(session)
        boss = await make_staff(session, estates=[here], roles=[Role.supervisor])
        body = {"name": "x", "estate_ids": [str(here.id)]}
        assert (await client.post(KEYS, json=body)).status_code == 401
        r = await client.post(KEYS, json=body, headers=boss.headers)
        assert r.status_code == 403
        assert r.headers["content-type"].startswith(PROBLEM)
        assert (await client.get(KEYS, headers=boss.headers)).status_code == 403
        assert await key_count(app) == 0

    async def test_key_is_shown_once_and_only_its_hash_is_kept(self, client, session, app):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        created = await create_key(client, admin, [here.id])
        key = created["key"]
        assert key.startswith(secrets.API_KEY_PREFIX)
        assert created["prefix"] == key[:12]
        assert sorted(created["scopes"]) == ["registry:read", "reports:read"]
        listed = (await client.get(KEYS, headers=admin.headers)).json()
        assert listed["total"] == 1
        assert "key" not in listed["items"][0]
        assert key not in str(listed)
        async with app.state.sessionmaker() as s:
            row = await s.get(ApiKey, uuid.UUID(created["id"]))
        assert row.key_hash == secrets.token_hash(key)

    async def test_only_read_scopes_can_be_granted(self, client, session, app):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        body = {"name": "x", "estate_ids": [str(here.id)], "scopes": ["users:manage"]}
        r = await client.post(KEYS, json=body, headers=admin.headers)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "scopes.0"
        assert await key_count(app) == 0

    async def test_only_own_estates_can_be_granted(self, client, session, app):
        here, there = await make_estate(session), await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        r = await client.post(KEYS, json={"name": "x", "estate_ids": [str(there.id)]}, headers=admin.headers)
        assert r.status_code == 403
        assert await key_count(app) == 0

    async def test_invalid_body_is_422(self, client, session, app):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        for body, field in [
            ({"name": "", "estate_ids": [str(here.id)]}, "name"),
            ({"name": "x\x00y", "estate_ids": [str(here.id)]}, "name"),
            ({"name": "x", "estate_ids": ["not-a-uuid"]}, "estate_ids.0"),
            ({"name": "x", "estate_ids": []}, "estate_ids"),
        ]:
            r = await client.post(KEYS, json=body, headers=admin.headers)
            assert r.status_code == 422, body
            assert field in [e["field"] for e in r.json()["errors"]]
        assert await key_count(app) == 0


class TestUsingKey:
    async def test_key_authenticates_but_may_only_read(self, client, session, app):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        key = (await create_key(client, admin, [here.id]))["key"]
        # Authenticated (403, not 401), but a key may not touch staff accounts.
        for method, url in [("GET", "/api/v1/users"), ("POST", "/api/v1/users"), ("GET", KEYS), ("GET", "/api/v1/audit")]:
            r = await client.request(method, url, headers=bearer(key), json={} if method == "POST" else None)
            assert r.status_code == 403, (method, url, r.status_code)
            assert r.headers["content-type"].startswith(PROBLEM)
        # An API key is not a person.
        assert (await client.get("/api/v1/auth/me", headers=bearer(key))).status_code == 401
        readable = route_needing(app, Perm.registry_read)
        if readable is not None:
            r = await client.get(readable, headers=bearer(key))
            assert r.status_code == 200, (readable, r.text)
            # Recorded with the successful request's commit.
            async with app.state.sessionmaker() as s:
                row = (await s.execute(select(ApiKey))).scalar_one()
            assert row.last_used_at is not None

    async def test_key_with_reports_scope_only_cannot_read_registry(self, client, session, app):
        readable = route_needing(app, Perm.registry_read)
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        key = (await create_key(client, admin, [here.id], scopes=["reports:read"]))["key"]
        if readable is not None:
            assert (await client.get(readable, headers=bearer(key))).status_code == 403

    async def test_revoked_key_is_401(self, client, session):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        created = await create_key(client, admin, [here.id])
        assert (await client.get("/api/v1/users", headers=bearer(created["key"]))).status_code == 403
        r = await client.post(f"{KEYS}/{created['id']}/revoke", headers=admin.headers)
        assert r.status_code == 200, r.text
        assert r.json()["revoked_at"] is not None
        r = await client.get("/api/v1/users", headers=bearer(created["key"]))
        assert r.status_code == 401
        assert r.headers["content-type"].startswith(PROBLEM)
        # Revoking again is harmless and keeps the first time.
        again = await client.post(f"{KEYS}/{created['id']}/revoke", headers=admin.headers)
        assert again.status_code == 200 and again.json()["revoked_at"] == r.json().get("revoked_at", again.json()["revoked_at"])


class TestRevokeScope:
    async def test_key_of_another_estate_is_404(self, client, session, app):
        here, there = await make_estate(session), await make_estate(session)
        admin_here = await make_staff(session, estates=[here], roles=[Role.admin])
        admin_there = await make_staff(session, estates=[there], roles=[Role.admin])
        theirs = await create_key(client, admin_there, [there.id])
        r = await client.post(f"{KEYS}/{theirs['id']}/revoke", headers=admin_here.headers)
        assert r.status_code == 404
        assert (await client.get(KEYS, headers=admin_here.headers)).json()["items"] == []
        async with app.state.sessionmaker() as s:
            assert (await s.get(ApiKey, uuid.UUID(theirs["id"]))).revoked_at is None

    async def test_unknown_key_404_and_malformed_id_422(self, client, session):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        assert (await client.post(f"{KEYS}/{uuid.uuid4()}/revoke", headers=admin.headers)).status_code == 404
        r = await client.post(f"{KEYS}/nope/revoke", headers=admin.headers)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "key_id"


class TestEveryScope:
    """Every scope a key can be given opens a route that needs it, and only a key holding it."""

    def test_the_scopes_offered_are_the_read_only_permissions_a_key_may_use(self):
        # A permission keys may use but cannot be given locks integrations out (fee_reports:read was one).
        assert {Perm(s.value) for s in ApiKeyScope} == API_KEY_PERMS

    @pytest.mark.parametrize("scope", list(ApiKeyScope), ids=lambda s: s.value)
    async def test_a_key_with_the_scope_reads_a_route_needing_it(self, client, session, app, scope):
        path = estate_route_needing(Perm(scope.value))
        assert path is not None, f"no GET route of an estate needs {scope.value}: give the scope a route to test"
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        holder = await create_key(client, admin, [here.id], scopes=[scope.value])
        assert holder["scopes"] == [scope.value]
        url = path.replace("{estate_id}", str(here.id))
        r = await client.get(url, headers=bearer(holder["key"]))
        assert r.status_code == 200, (url, r.text)
        others = [s.value for s in ApiKeyScope if s is not scope]
        if others:
            without = await create_key(client, admin, [here.id], scopes=others)
            r = await client.get(url, headers=bearer(without["key"]))
            assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden", (url, r.text)
            assert r.json()["permission"] == scope.value

    async def test_finance_systems_key_reads_both_fee_reports(self, client, session):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        key = (await create_key(client, admin, [here.id], scopes=["fee_reports:read"]))["key"]
        for report in ("month-end", "saturday-register"):
            r = await client.get(f"{API}/estates/{here.id}/fee-reports/{report}", headers=bearer(key))
            assert r.status_code == 200, (report, r.text)
