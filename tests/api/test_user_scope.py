"""An admin of one estate manages only staff and keys that are wholly theirs; no estate loses its last admin."""
from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from app.domain.auth import secrets
from app.domain.auth.model import ApiKey, User
from app.domain.auth.roles import Role
from app.domain.registry.model import Company
from tests.factories import PASSWORD, make_estate, make_staff

USERS = "/api/v1/users"
KEYS = "/api/v1/api-keys"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


async def fresh(app, model, row_id):
    async with app.state.sessionmaker() as s:
        return await s.get(model, row_id)


async def sibling(session, estate):
    """Another estate of the same company."""
    return await make_estate(session, company=await session.get(Company, estate.company_id))


async def company(session):
    """Estates A and B; the company admin works in both, a local admin in A only."""
    a = await make_estate(session)
    b = await sibling(session, a)
    boss = await make_staff(session, estates=[a, b], roles=[Role.admin], username="company.admin")
    local = await make_staff(session, estates=[a], roles=[Role.admin], username="local.admin")
    return a, b, boss, local


class TestNarrowAdminVsWideUser:
    async def test_cannot_reset_the_company_admins_password(self, client, session, app):
        _, _, boss, local = await company(session)
        r = await client.post(f"{USERS}/{boss.id}/reset-password", json={"new_password": "amber-kettle-47"}, headers=local.headers)
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "/problems/user-outside-your-scope"
        assert (await client.post(LOGIN, json={"username": "company.admin", "password": "amber-kettle-47"})).status_code == 401
        assert secrets.verify_password((await fresh(app, User, boss.id)).password_hash, PASSWORD)
        assert (await client.get(ME, headers=boss.headers)).status_code == 200

    async def test_cannot_change_roles_name_or_estates_of_a_wider_user(self, client, session, app):
        a, _, _, local = await company(session)
        wide = await make_staff(session, estates=[a, await sibling(session, a)], roles=[Role.receptionist], full_name="原名")
        for body in ({"roles": ["admin"]}, {"roles": ["supervisor"]}, {"full_name": "改了"}, {"estate_ids": [str(a.id)]},
                     {"phone": None}):
            r = await client.patch(f"{USERS}/{wide.id}", json=body, headers=local.headers)
            assert r.status_code == 403, (body, r.text)
            assert r.json()["type"] == "/problems/user-outside-your-scope"
        after = await fresh(app, User, wide.id)
        assert after.roles == ["receptionist"] and after.full_name == "原名"

    async def test_cannot_deactivate_the_company_admin(self, client, session, app):
        _, _, boss, local = await company(session)
        r = await client.patch(f"{USERS}/{boss.id}", json={"is_active": False}, headers=local.headers)
        assert r.status_code == 403
        assert r.json()["type"] == "/problems/user-outside-your-scope"
        assert (await fresh(app, User, boss.id)).is_active is True

    async def test_may_still_read_them(self, client, session):
        _, _, boss, local = await company(session)
        r = await client.get(f"{USERS}/{boss.id}", headers=local.headers)
        assert r.status_code == 200 and r.json()["username"] == "company.admin"

    async def test_the_company_admin_manages_the_local_admin(self, client, session):
        _, _, boss, local = await company(session)
        r = await client.patch(f"{USERS}/{local.id}", json={"roles": ["supervisor"]}, headers=boss.headers)
        assert r.status_code == 200, r.text
        assert r.json()["roles"] == ["supervisor"]


class TestLastAdmin:
    async def test_the_only_admin_cannot_deactivate_demote_or_unassign_themselves(self, client, session, app):
        a = await make_estate(session)
        b = await sibling(session, a)
        only = await make_staff(session, estates=[a, b], roles=[Role.admin])
        url = f"{USERS}/{only.id}"
        for body, orphaned in [({"is_active": False}, {a.id, b.id}), ({"roles": ["supervisor"]}, {a.id, b.id}),
                               ({"estate_ids": [str(a.id)]}, {b.id})]:
            r = await client.patch(url, json=body, headers=only.headers)
            assert r.status_code == 409, (body, r.text)
            assert r.json()["type"] == "/problems/last-admin"
            assert set(r.json()["estate_ids"]) == {str(e) for e in orphaned}
        after = await fresh(app, User, only.id)
        assert after.is_active and after.roles == ["admin"]
        r = await client.get(url, headers=only.headers)
        assert sorted(r.json()["estate_ids"]) == sorted([str(a.id), str(b.id)])
        # Adding a role, or a change of name, takes nothing away.
        r = await client.patch(url, json={"roles": ["admin", "supervisor"], "full_name": "王總"}, headers=only.headers)
        assert r.status_code == 200, r.text

    async def test_one_of_two_admins_may_go_but_not_the_second(self, client, session, app):
        a, b, boss, local = await company(session)
        r = await client.patch(f"{USERS}/{local.id}", json={"is_active": False}, headers=boss.headers)
        assert r.status_code == 200, r.text
        r = await client.patch(f"{USERS}/{boss.id}", json={"is_active": False}, headers=boss.headers)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/last-admin"
        assert (await fresh(app, User, boss.id)).is_active

    async def test_an_estate_keeps_an_admin_when_another_covers_it(self, client, session):
        a, b, boss, local = await company(session)
        # The local admin may step down in A: the company admin still works there.
        r = await client.patch(f"{USERS}/{local.id}", json={"roles": ["receptionist"]}, headers=local.headers)
        assert r.status_code == 200, r.text

    async def test_two_admins_deactivating_each_other_at_once_leave_one(self, client, session, app):
        a = await make_estate(session)
        one = await make_staff(session, estates=[a], roles=[Role.admin])
        two = await make_staff(session, estates=[a], roles=[Role.admin])
        for _ in range(3):
            results = await asyncio.gather(
                client.patch(f"{USERS}/{two.id}", json={"is_active": False}, headers=one.headers),
                client.patch(f"{USERS}/{one.id}", json={"is_active": False}, headers=two.headers),
            )
            codes = sorted(r.status_code for r in results)
            assert codes in ([200, 409], [200, 401]), [r.text for r in results]
            assert {r.json()["type"] for r in results if r.status_code == 409} <= {"/problems/last-admin"}
            async with app.state.sessionmaker() as s:
                active = (await s.execute(select(User).where(User.is_active.is_(True), User.roles.any("admin")))).scalars().all()
            assert len(active) == 1
            # Bring the other back (fresh tokens) for the next round.
            winner = one if active[0].id == one.id else two
            loser = two if winner is one else one
            r = await client.patch(f"{USERS}/{loser.id}", json={"is_active": True}, headers=winner.headers)
            assert r.status_code == 200, r.text
            loser.token = (await client.post(LOGIN, json={"username": loser.user.username, "password": PASSWORD})).json()["access_token"]


class TestDeactivation:
    async def test_reactivating_does_not_revive_old_sessions(self, client, session):
        a = await make_estate(session)
        admin = await make_staff(session, estates=[a], roles=[Role.admin])
        target = await make_staff(session, estates=[a])
        assert (await client.patch(f"{USERS}/{target.id}", json={"is_active": False}, headers=admin.headers)).status_code == 200
        assert (await client.patch(f"{USERS}/{target.id}", json={"is_active": True}, headers=admin.headers)).status_code == 200
        assert (await client.get(ME, headers=target.headers)).status_code == 401
        assert (await client.post(LOGIN, json={"username": target.user.username, "password": PASSWORD})).status_code == 200


class TestApiKeyScope:
    async def _key(self, session, estates, scopes=("reports:read",)) -> ApiKey:
        key = ApiKey(company_id=estates[0].company_id, name="財務系統", prefix="pdk_x", key_hash=uuid.uuid4().hex * 2,
                     estate_ids=[e.id for e in estates], scopes=list(scopes))
        session.add(key)
        await session.commit()
        return key

    async def test_a_key_of_wider_estates_cannot_be_revoked_by_a_narrow_admin(self, client, session, app):
        a, b, boss, local = await company(session)
        wide = await self._key(session, [a, b])
        r = await client.post(f"{KEYS}/{wide.id}/revoke", headers=local.headers)
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "/problems/api-key-outside-your-scope"
        assert (await fresh(app, ApiKey, wide.id)).revoked_at is None
        assert (await client.post(f"{KEYS}/{wide.id}/revoke", headers=boss.headers)).status_code == 200

    async def test_a_key_of_another_estate_only_is_404(self, client, session, app):
        a, b, _, local = await company(session)
        theirs = await self._key(session, [b])
        r = await client.post(f"{KEYS}/{theirs.id}/revoke", headers=local.headers)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/api-key-not-found"

    async def test_a_narrow_admin_cannot_make_a_wider_key(self, client, session, app):
        a, b, _, local = await company(session)
        r = await client.post(KEYS, json={"name": "x", "estate_ids": [str(a.id), str(b.id)]}, headers=local.headers)
        assert r.status_code == 403
        assert r.json()["type"] == "/problems/estate-outside-your-scope"
        assert r.json()["estate_ids"] == [str(b.id)]
        async with app.state.sessionmaker() as s:
            assert (await s.execute(select(ApiKey))).scalars().all() == []
