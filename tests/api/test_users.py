"""Staff accounts: admins manage them within their own estates."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.domain.auth.model import User
from app.domain.auth.roles import Role
from tests.factories import PASSWORD, make_estate, make_staff

USERS = "/api/v1/users"
PROBLEM = "application/problem+json"


def new_user(estates: list, **over) -> dict:
    body = {
        "username": f"u{uuid.uuid4().hex[:10]}",
        "password": "a-long-password",
        "full_name": "王芳",
        "phone": "138 0013 8000",
        "roles": ["receptionist"],
        "estate_ids": [str(e) for e in estates],
    }
    return {**body, **over}


async def user_count(app) -> int:
    async with app.state.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(User))).scalar_one()


async def office(session):
    """Two estates of one company; an admin of the first only."""
    here = await make_estate(session)
    there = await make_estate(session)
    admin = await make_staff(session, estates=[here], roles=[Role.admin])
    return here, there, admin


class TestCreateUser:
    async def test_anonymous_is_401(self, client, session):
        here = await make_estate(session)
        r = await client.post(USERS, json=new_user([here.id]))
        assert r.status_code == 401
        assert r.headers["content-type"].startswith(PROBLEM)

    async def test_non_admin_is_403(self, client, session, app):
        here = await make_estate(session)
        for role in (Role.supervisor, Role.receptionist):
            staff = await make_staff(session, estates=[here], roles=[role])
            before = await user_count(app)
            r = await client.post(USERS, json=new_user([here.id]), headers=staff.headers)
            assert r.status_code == 403, role
            assert r.headers["content-type"].startswith(PROBLEM)
            assert await user_count(app) == before

    async def test_admin_creates_a_user_who_can_sign_in(self, client, session):
        here, _, admin = await office(session)
        body = new_user([here.id], roles=["receptionist", "night_duty"])
        r = await client.post(USERS, json=body, headers=admin.headers)
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["username"] == body["username"]
        assert sorted(created["roles"]) == ["night_duty", "receptionist"]
        assert created["estate_ids"] == [str(here.id)]
        assert created["is_active"] is True
        assert "password" not in created and "password_hash" not in created
        login = await client.post("/api/v1/auth/login", json={"username": body["username"], "password": body["password"]})
        assert login.status_code == 200, login.text

    async def test_admin_may_only_grant_own_estates(self, client, session, app):
        here, there, admin = await office(session)
        before = await user_count(app)
        r = await client.post(USERS, json=new_user([here.id, there.id]), headers=admin.headers)
        assert r.status_code == 403
        assert r.json()["type"] == "/problems/estate-outside-your-scope"
        assert r.json()["estate_ids"] == [str(there.id)]
        assert await user_count(app) == before

    async def test_username_taken_is_409(self, client, session, app):
        here, _, admin = await office(session)
        body = new_user([here.id])
        assert (await client.post(USERS, json=body, headers=admin.headers)).status_code == 201
        before = await user_count(app)
        r = await client.post(USERS, json={**body, "full_name": "另一個"}, headers=admin.headers)
        assert r.status_code == 409
        assert r.json()["type"] == "/problems/username-taken"
        assert r.json()["field"] == "username"
        assert await user_count(app) == before

    async def test_invalid_input_is_422_and_nothing_written(self, client, session, app):
        here, _, admin = await office(session)
        before = await user_count(app)
        cases = {
            "username": new_user([here.id], username="has space"),
            "password": new_user([here.id], password="short"),
            "roles.0": new_user([here.id], roles=["janitor"]),
            "roles": new_user([here.id], roles=[]),
            "estate_ids": new_user([here.id], estate_ids=[]),
            "full_name": new_user([here.id], full_name="王" * 101),
        }
        for field, body in cases.items():
            r = await client.post(USERS, json=body, headers=admin.headers)
            assert r.status_code == 422, (field, r.text)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
        assert await user_count(app) == before


class TestReadUsers:
    async def test_anonymous_is_401(self, client):
        assert (await client.get(USERS)).status_code == 401
        assert (await client.get(f"{USERS}/{uuid.uuid4()}")).status_code == 401

    async def test_receptionist_is_403(self, client, session):
        here = await make_estate(session)
        staff = await make_staff(session, estates=[here], roles=[Role.receptionist])
        assert (await client.get(USERS, headers=staff.headers)).status_code == 403
        assert (await client.get(f"{USERS}/{staff.id}", headers=staff.headers)).status_code == 403

    async def test_supervisor_reads_own_estate_only(self, client, session):
        here, there = await make_estate(session), None
        there = await make_estate(session)
        boss = await make_staff(session, estates=[here], roles=[Role.supervisor])
        mine = await make_staff(session, estates=[here], full_name="陳明")
        theirs = await make_staff(session, estates=[there], full_name="趙剛")
        r = await client.get(USERS, headers=boss.headers)
        assert r.status_code == 200, r.text
        ids = {u["id"] for u in r.json()["items"]}
        assert ids == {str(boss.id), str(mine.id)}
        assert r.json()["total"] == 2
        assert (await client.get(f"{USERS}/{mine.id}", headers=boss.headers)).status_code == 200
        r = await client.get(f"{USERS}/{theirs.id}", headers=boss.headers)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith(PROBLEM)
        assert "趙剛" not in r.text

    async def test_unknown_user_is_404(self, client, session):
        _, _, admin = await office(session)
        r = await client.get(f"{USERS}/{uuid.uuid4()}", headers=admin.headers)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/user-not-found"

    async def test_filters_sort_and_pagination(self, client, session):
        here, there, admin = await office(session)
        both = await make_staff(session, estates=[here, there], roles=[Role.technician], full_name="孫師傅", username="tech.sun")
        await make_staff(session, estates=[here], roles=[Role.finance], full_name="錢會計", username="fin.qian")
        await make_staff(session, estates=[there], roles=[Role.technician], full_name="周師傅", username="tech.zhou")
        h = admin.headers
        r = await client.get(USERS, params={"role": "technician"}, headers=h)
        assert [u["username"] for u in r.json()["items"]] == ["tech.sun"]
        r = await client.get(USERS, params={"q": "會計"}, headers=h)
        assert [u["username"] for u in r.json()["items"]] == ["fin.qian"]
        # Filtering by an estate the caller lacks shows nothing, not that estate's staff.
        r = await client.get(USERS, params={"estate_id": str(there.id)}, headers=h)
        assert r.status_code == 200 and r.json()["items"] == []
        r = await client.get(USERS, params={"sort": "-username", "limit": 2}, headers=h)
        page = r.json()
        assert page["total"] == 3 and page["limit"] == 2 and len(page["items"]) == 2
        names = [u["username"] for u in page["items"]]
        assert names == sorted(names, reverse=True)
        r2 = await client.get(USERS, params={"sort": "-username", "limit": 2, "offset": 2}, headers=h)
        assert len(r2.json()["items"]) == 1
        assert both.user.username in names + [u["username"] for u in r2.json()["items"]]

    async def test_unknown_sort_key_is_422(self, client, session):
        _, _, admin = await office(session)
        r = await client.get(USERS, params={"sort": "password_hash"}, headers=admin.headers)
        assert r.status_code == 422
        assert r.json()["field"] == "sort"


class TestUpdateUser:
    async def test_non_admin_is_403_and_nothing_changes(self, client, session, app):
        here = await make_estate(session)
        boss = await make_staff(session, estates=[here], roles=[Role.supervisor])
        target = await make_staff(session, estates=[here], full_name="原名")
        r = await client.patch(f"{USERS}/{target.id}", json={"full_name": "新名"}, headers=boss.headers)
        assert r.status_code == 403
        async with app.state.sessionmaker() as s:
            assert (await s.get(User, target.id)).full_name == "原名"

    async def test_admin_updates_roles_estates_and_phone(self, client, session):
        here, _, admin = await office(session)
        target = await make_staff(session, estates=[here])
        r = await client.patch(
            f"{USERS}/{target.id}", json={"full_name": "劉洋", "roles": ["manager"], "phone": None}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["full_name"] == "劉洋"
        assert r.json()["roles"] == ["manager"]
        assert r.json()["phone"] is None
        assert r.json()["estate_ids"] == [str(here.id)]

    async def test_admin_cannot_move_a_user_to_a_foreign_estate(self, client, session, app):
        here, there, admin = await office(session)
        target = await make_staff(session, estates=[here])
        r = await client.patch(f"{USERS}/{target.id}", json={"estate_ids": [str(there.id)]}, headers=admin.headers)
        assert r.status_code == 403
        r = await client.get(f"{USERS}/{target.id}", headers=admin.headers)
        assert r.json()["estate_ids"] == [str(here.id)]

    async def test_a_user_also_in_other_estates_is_not_the_narrow_admins_to_change(self, client, session, app):
        here, there, admin = await office(session)
        both = await make_staff(session, estates=[here, there])
        r = await client.patch(f"{USERS}/{both.id}", json={"estate_ids": [str(here.id)]}, headers=admin.headers)
        assert r.status_code == 403, r.text
        assert r.json()["type"] == "/problems/user-outside-your-scope"
        r = await client.get(f"{USERS}/{both.id}", headers=admin.headers)
        assert sorted(r.json()["estate_ids"]) == sorted([str(here.id), str(there.id)])

    async def test_user_of_another_estate_is_404(self, client, session, app):
        here, there, admin = await office(session)
        theirs = await make_staff(session, estates=[there], full_name="不動")
        r = await client.patch(f"{USERS}/{theirs.id}", json={"full_name": "改了"}, headers=admin.headers)
        assert r.status_code == 404
        r = await client.post(f"{USERS}/{theirs.id}/reset-password", json={"new_password": "amber-kettle-47"}, headers=admin.headers)
        assert r.status_code == 404
        async with app.state.sessionmaker() as s:
            assert (await s.get(User, theirs.id)).full_name == "不動"

    async def test_deactivation_ends_the_users_session(self, client, session):
        here, _, admin = await office(session)
        target = await make_staff(session, estates=[here])
        assert (await client.get("/api/v1/auth/me", headers=target.headers)).status_code == 200
        r = await client.patch(f"{USERS}/{target.id}", json={"is_active": False}, headers=admin.headers)
        assert r.status_code == 200 and r.json()["is_active"] is False
        assert (await client.get("/api/v1/auth/me", headers=target.headers)).status_code == 401

    async def test_me_shows_the_estates_granted_a_moment_ago(self, client, session):
        here, _, admin = await office(session)
        admin_too = await make_staff(session, estates=[here, await make_estate(session)], roles=[Role.admin])
        target = await make_staff(session, estates=[here])
        me = (await client.get("/api/v1/auth/me", headers=target.headers)).json()
        assert me["estate_ids"] == [str(here.id)]
        r = await client.get(f"{USERS}/{admin_too.id}", headers=admin_too.headers)
        granted = sorted(r.json()["estate_ids"])
        r = await client.patch(f"{USERS}/{target.id}", json={"estate_ids": granted}, headers=admin_too.headers)
        assert r.status_code == 200, r.text
        me = (await client.get("/api/v1/auth/me", headers=target.headers)).json()
        assert sorted(me["estate_ids"]) == granted and len(granted) == 2

    async def test_invalid_update_is_422(self, client, session, app):
        here, _, admin = await office(session)
        target = await make_staff(session, estates=[here], full_name="原名")
        for body, field in [({"roles": []}, "roles"), ({"full_name": ""}, "full_name"), ({"is_active": "maybe"}, "is_active")]:
            r = await client.patch(f"{USERS}/{target.id}", json=body, headers=admin.headers)
            assert r.status_code == 422, body
            assert field in [e["field"] for e in r.json()["errors"]]
        async with app.state.sessionmaker() as s:
            assert (await s.get(User, target.id)).full_name == "原名"


class TestResetPassword:
    async def test_reset_sets_the_password(self, client, session):
        here, _, admin = await office(session)
        target = await make_staff(session, estates=[here], username="forgot.it")
        r = await client.post(f"{USERS}/{target.id}/reset-password", json={"new_password": "brand-new-pass"}, headers=admin.headers)
        assert r.status_code == 200, r.text
        assert (await client.post("/api/v1/auth/login", json={"username": "forgot.it", "password": PASSWORD})).status_code == 401
        assert (await client.post("/api/v1/auth/login", json={"username": "forgot.it", "password": "brand-new-pass"})).status_code == 200

    async def test_non_admin_is_403_and_short_password_422(self, client, session):
        here, _, admin = await office(session)
        boss = await make_staff(session, estates=[here], roles=[Role.supervisor])
        target = await make_staff(session, estates=[here])
        url = f"{USERS}/{target.id}/reset-password"
        assert (await client.post(url, json={"new_password": "long-enough-1"}, headers=boss.headers)).status_code == 403
        r = await client.post(url, json={"new_password": "short"}, headers=admin.headers)
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "new_password"
