"""Signing in and out: tokens, expiry, deactivation (throttling: test_login_throttle.py)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.domain.auth import secrets
from app.domain.auth.model import AuthToken, User
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from tests.factories import PASSWORD, make_estate, make_staff

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
LOGOUT = "/api/v1/auth/logout"
PROBLEM = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestLogin:
    async def test_login_returns_a_token_that_works(self, client, session):
        estate = await make_estate(session)
        await make_staff(session, estates=[estate], roles=[Role.receptionist], username="wang.fang")
        r = await client.post(LOGIN, json={"username": "wang.fang", "password": PASSWORD})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "bearer"
        assert body["user"]["username"] == "wang.fang"
        assert "password_hash" not in body["user"]
        me = await client.get(ME, headers=bearer(body["access_token"]))
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "wang.fang"
        assert me.json()["roles"] == ["receptionist"]

    async def test_only_the_token_hash_is_stored(self, client, session, app):
        estate = await make_estate(session)
        await make_staff(session, estates=[estate], username="hash.only")
        token = (await client.post(LOGIN, json={"username": "hash.only", "password": PASSWORD})).json()["access_token"]
        async with app.state.sessionmaker() as s:
            hashes = (await s.execute(select(AuthToken.token_hash))).scalars().all()
        assert token not in hashes
        assert secrets.token_hash(token) in hashes

    async def test_wrong_password_is_401_problem(self, client, session):
        estate = await make_estate(session)
        await make_staff(session, estates=[estate], username="li.na")
        r = await client.post(LOGIN, json={"username": "li.na", "password": "wrong-password"})
        assert r.status_code == 401
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["type"] == "/problems/invalid-credentials"
        assert "access_token" not in r.text

    async def test_unknown_user_is_the_same_401(self, client):
        r = await client.post(LOGIN, json={"username": "nobody", "password": "whatever-pw"})
        assert r.status_code == 401
        assert r.json()["type"] == "/problems/invalid-credentials"

    async def test_inactive_user_cannot_sign_in(self, client, session):
        estate = await make_estate(session)
        await make_staff(session, estates=[estate], username="gone", is_active=False)
        r = await client.post(LOGIN, json={"username": "gone", "password": PASSWORD})
        assert r.status_code == 401

    async def test_malformed_body_is_422_problem(self, client):
        r = await client.post(LOGIN, json={"username": "a"})
        assert r.status_code == 422
        assert r.headers["content-type"].startswith(PROBLEM)
        assert [e["field"] for e in r.json()["errors"]] == ["password"]


class TestTokens:
    async def test_logout_revokes_the_token(self, client, session):
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate])
        other = await make_staff(session, estates=[estate])
        assert (await client.get(ME, headers=staff.headers)).status_code == 200
        r = await client.post(LOGOUT, headers=staff.headers)
        assert r.status_code == 204
        r = await client.get(ME, headers=staff.headers)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.headers["WWW-Authenticate"] == "Bearer"
        # Only that token: the colleague stays signed in.
        assert (await client.get(ME, headers=other.headers)).status_code == 200

    async def test_logout_without_token_is_401(self, client):
        r = await client.post(LOGOUT)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith(PROBLEM)

    async def test_expired_token_is_401(self, client, session):
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate])
        await session.execute(
            update(AuthToken).where(AuthToken.user_id == staff.id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
        r = await client.get(ME, headers=staff.headers)
        assert r.status_code == 401
        assert r.json()["type"] == "/problems/invalid-token"

    async def test_deactivated_user_token_is_401(self, client, session):
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate])
        assert (await client.get(ME, headers=staff.headers)).status_code == 200
        await session.execute(update(User).where(User.id == staff.id).values(is_active=False))
        await session.commit()
        assert (await client.get(ME, headers=staff.headers)).status_code == 401

    async def test_garbage_tokens_are_401(self, client):
        for token in ["nope", "pd_" + "x" * 43, "pdk_unknown", "a" * 5000]:
            r = await client.get(ME, headers=bearer(token))
            assert r.status_code == 401, token
            assert r.headers["content-type"].startswith(PROBLEM)

    async def test_wrong_scheme_is_401(self, client, session):
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate])
        r = await client.get(ME, headers={"Authorization": f"Basic {staff.token}"})
        assert r.status_code == 401
        assert r.headers["content-type"].startswith(PROBLEM)
