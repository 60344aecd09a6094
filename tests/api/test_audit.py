"""The audit trail: written by every change, filterable, and append-only."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.domain.audit import service as audit_service
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from tests.factories import make_estate, make_staff

AUDIT = "/api/v1/audit"
PROBLEM = "application/problem+json"


async def entries(client, admin, **params) -> list[dict]:
    r = await client.get(AUDIT, params={"limit": 200, **params}, headers=admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


class TestEntriesAreWritten:
    async def test_user_lifecycle_is_audited(self, client, session):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        body = {"username": "audit.me", "password": "a-long-password", "full_name": "黃磊",
                "roles": ["receptionist"], "estate_ids": [str(here.id)]}
        user_id = (await client.post("/api/v1/users", json=body, headers=admin.headers)).json()["id"]
        assert (await client.patch(f"/api/v1/users/{user_id}", json={"full_name": "黃小磊"}, headers=admin.headers)).status_code == 200
        r = await client.post(f"/api/v1/users/{user_id}/reset-password", json={"new_password": "another-password"}, headers=admin.headers)
        assert r.status_code == 200

        trail = await entries(client, admin, entity="user", entity_id=user_id)
        assert [e["action"] for e in trail] == ["reset_password", "update", "create"]  # newest first
        create, update = trail[2], trail[1]
        assert create["actor_id"] == str(admin.id)
        assert create["after"]["username"] == "audit.me"
        assert create["after"]["estate_ids"] == [str(here.id)]
        assert update["before"]["full_name"] == "黃磊" and update["after"]["full_name"] == "黃小磊"
        for e in trail:
            # Secrets never reach the trail.
            assert "password" not in str(e["before"]) + str(e["after"])
            assert e["request_id"]

    async def test_api_key_create_and_revoke_are_audited(self, client, session):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        created = (await client.post("/api/v1/api-keys", json={"name": "BI", "estate_ids": [str(here.id)]}, headers=admin.headers)).json()
        await client.post(f"/api/v1/api-keys/{created['id']}/revoke", headers=admin.headers)
        trail = await entries(client, admin, entity="api_key")
        assert [e["action"] for e in trail] == ["revoke", "create"]
        assert all(e["entity_id"] == created["id"] for e in trail)
        assert created["key"] not in str(trail)
        assert trail[0]["before"]["revoked_at"] is None and trail[0]["after"]["revoked_at"] is not None

    async def test_refused_changes_leave_no_entry(self, client, session):
        here, there = await make_estate(session), await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        body = {"username": "no.trace", "password": "a-long-password", "full_name": "x",
                "roles": ["receptionist"], "estate_ids": [str(there.id)]}
        assert (await client.post("/api/v1/users", json=body, headers=admin.headers)).status_code == 403
        assert await entries(client, admin, entity="user") == []


class TestListing:
    async def test_anonymous_401_and_receptionist_403(self, client, session):
        here = await make_estate(session)
        desk = await make_staff(session, estates=[here], roles=[Role.receptionist])
        assert (await client.get(AUDIT)).status_code == 401
        r = await client.get(AUDIT, headers=desk.headers)
        assert r.status_code == 403
        assert r.headers["content-type"].startswith(PROBLEM)

    async def test_filters(self, client, session):
        here, there = await make_estate(session), await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        other = await make_staff(session, estates=[here], roles=[Role.supervisor])
        actor = Actor(id=admin.id, label="管理員", company_id=here.company_id, roles=frozenset({Role.admin}),
                      estate_ids=frozenset({here.id}))
        other_actor = Actor(id=other.id, label="主管", company_id=here.company_id, estate_ids=frozenset({here.id}))
        a_id, b_id = uuid.uuid4(), uuid.uuid4()
        await audit_service.record(session, actor=actor, action="create", entity="unit", entity_id=a_id, estate_id=here.id, after={"n": 1})
        await audit_service.record(session, actor=other_actor, action="update", entity="unit", entity_id=a_id, estate_id=here.id)
        await audit_service.record(session, actor=actor, action="create", entity="owner", entity_id=b_id, estate_id=here.id)
        await audit_service.record(session, actor=actor, action="create", entity="unit", entity_id=uuid.uuid4(), estate_id=there.id)
        await session.commit()

        assert len(await entries(client, admin)) == 3  # not the other estate's
        assert {e["entity"] for e in await entries(client, admin, entity="unit")} == {"unit"}
        assert len(await entries(client, admin, entity_id=str(a_id))) == 2
        assert [e["action"] for e in await entries(client, admin, action="update")] == ["update"]
        assert [e["actor_id"] for e in await entries(client, admin, actor_id=str(other.id))] == [str(other.id)]
        assert len(await entries(client, admin, estate_id=str(here.id))) == 3
        assert await entries(client, admin, estate_id=str(there.id)) == []
        now = utcnow()
        assert len(await entries(client, admin, since=(now - timedelta(minutes=5)).isoformat())) == 3
        assert await entries(client, admin, since=(now + timedelta(minutes=5)).isoformat()) == []
        assert await entries(client, admin, until=(now - timedelta(minutes=5)).isoformat()) == []
        by_entity = await entries(client, admin, sort="entity")
        assert [e["entity"] for e in by_entity] == ["owner", "unit", "unit"]
        page = (await client.get(AUDIT, params={"limit": 1, "offset": 1}, headers=admin.headers)).json()
        assert page["total"] == 3 and len(page["items"]) == 1

    async def test_company_wide_entries_are_for_admins_only(self, client, session):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        boss = await make_staff(session, estates=[here], roles=[Role.supervisor])
        body = {"username": "seen.by.admin", "password": "a-long-password", "full_name": "x",
                "roles": ["receptionist"], "estate_ids": [str(here.id)]}
        assert (await client.post("/api/v1/users", json=body, headers=admin.headers)).status_code == 201
        assert len(await entries(client, admin, entity="user")) == 1
        assert await entries(client, boss, entity="user") == []

    async def test_bad_filters_are_422(self, client, session):
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        for params, field in [
            ({"since": "yesterday"}, "since"),
            ({"estate_id": "123"}, "estate_id"),
            ({"entity": "a b"}, "entity"),
            ({"action": "x" * 65}, "action"),
            ({"sort": "before"}, "sort"),
        ]:
            r = await client.get(AUDIT, params=params, headers=admin.headers)
            assert r.status_code == 422, params
            body = r.json()
            fields = [e["field"] for e in body.get("errors", [])] + [body.get("field")]
            assert field in fields, (params, body)


class TestAppendOnly:
    @pytest.mark.parametrize("sql", [
        "UPDATE audit_entry SET action = 'tampered'",
        "DELETE FROM audit_entry",
        "TRUNCATE audit_entry",
    ])
    async def test_sql_cannot_change_the_trail(self, session, sql):
        here = await make_estate(session)
        actor = Actor(id=None, label="x", company_id=here.company_id)
        await audit_service.record(session, actor=actor, action="create", entity="unit", entity_id="1", estate_id=here.id)
        await session.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(sql))
        await session.rollback()
        assert (await session.execute(text("SELECT action FROM audit_entry"))).scalars().all() == ["create"]

    async def test_no_route_edits_or_deletes_it(self, client, session, app):
        for path, ops in app.openapi()["paths"].items():
            if "audit" in path:
                assert set(ops) == {"get"}, path
        here = await make_estate(session)
        admin = await make_staff(session, estates=[here], roles=[Role.admin])
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            r = await client.request(method, AUDIT, headers=admin.headers)
            assert r.status_code == 405, method
            assert r.headers["content-type"].startswith(PROBLEM)
            r = await client.request(method, f"{AUDIT}/1", headers=admin.headers)
            assert r.status_code in (404, 405), method
