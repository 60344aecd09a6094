"""Passwords: strong enough when set, and a new one ends every old session."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.domain.audit.model import AuditEntry
from app.domain.auth import secrets
from app.domain.auth.model import ApiKey, User
from app.domain.auth.roles import Role
from tests.factories import PASSWORD, make_estate, make_staff
from tests.ratelimit_helpers import override_clock

USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
CHANGE = "/api/v1/auth/password"
STRONG = "amber-kettle-47"
# Mid-way through a throttle window: the guesses below must not straddle two windows.
T0 = datetime(2026, 11, 30, 9, 20, 20, tzinfo=UTC)
# Each one the old rule (eight characters) let through.
WEAK = ["12345678", "password", " " * 8, "password123", "1234567890", "qwertyuiop", " " * 10, "Password2026"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def hash_of(app, user_id) -> str:
    async with app.state.sessionmaker() as s:
        return (await s.get(User, user_id)).password_hash


async def second_session(client, username: str) -> str:
    r = await client.post(LOGIN, json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def assert_weak(r, field: str) -> None:
    assert r.status_code == 422, r.text
    errors = r.json().get("errors") or [{"field": r.json()["field"], "problem": r.json()["detail"]}]
    [error] = [e for e in errors if e["field"] == field]
    # The reason is the estimator's (or the length rule's), not just "invalid".
    assert any(word in error["problem"] for word in ("common", "Repeats", "characters", "guess", "own name", "Capitalization"))


class TestStrength:
    async def test_weak_passwords_are_refused_on_create(self, client, session, app):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        async with app.state.sessionmaker() as s:
            before = (await s.execute(select(func.count()).select_from(User))).scalar_one()
        for weak in WEAK + ["wang.fang.2026"]:
            body = {"username": "wang.fang", "password": weak, "full_name": "王芳", "roles": ["receptionist"],
                    "estate_ids": [str(estate.id)]}
            assert_weak(await client.post(USERS, json=body, headers=admin.headers), "password")
        async with app.state.sessionmaker() as s:
            assert (await s.execute(select(func.count()).select_from(User))).scalar_one() == before

    async def test_weak_passwords_are_refused_on_reset(self, client, session, app):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        target = await make_staff(session, estates=[estate], username="zhang.wei")
        before = await hash_of(app, target.id)
        for weak in WEAK:
            assert_weak(await client.post(f"{USERS}/{target.id}/reset-password", json={"new_password": weak}, headers=admin.headers),
                        "new_password")
        # Built on the account's own name: only the service knows whose password it is.
        r = await client.post(f"{USERS}/{target.id}/reset-password", json={"new_password": "zhang.wei.2026"}, headers=admin.headers)
        assert_weak(r, "new_password")
        assert r.json()["type"] == "/problems/password-too-weak"
        assert await hash_of(app, target.id) == before

    async def test_a_strong_password_is_taken(self, client, session):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        body = {"username": "li.qiang", "password": STRONG, "full_name": "李強", "roles": ["technician"], "estate_ids": [str(estate.id)]}
        assert (await client.post(USERS, json=body, headers=admin.headers)).status_code == 201
        assert (await client.post(LOGIN, json={"username": "li.qiang", "password": STRONG})).status_code == 200


class TestResetEndsSessions:
    async def test_old_tokens_stop_working(self, client, session, app):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        target = await make_staff(session, estates=[estate], username="chen.ming")
        other = await second_session(client, "chen.ming")
        r = await client.post(f"{USERS}/{target.id}/reset-password", json={"new_password": STRONG}, headers=admin.headers)
        assert r.status_code == 200, r.text
        assert (await client.get(ME, headers=target.headers)).status_code == 401
        assert (await client.get(ME, headers=bearer(other))).status_code == 401
        assert (await client.get(ME, headers=admin.headers)).status_code == 200
        async with app.state.sessionmaker() as s:
            entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "reset_password"))).scalar_one()
        assert entry.after == {"tokens_revoked": 2}


class TestChangeOwnPassword:
    async def test_anonymous_and_api_key_are_401(self, client, session):
        body = {"current_password": PASSWORD, "new_password": STRONG}
        r = await client.post(CHANGE, json=body)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        estate = await make_estate(session)
        key = secrets.new_token(secrets.API_KEY_PREFIX)
        session.add(ApiKey(company_id=estate.company_id, name="x", prefix=key[:12], key_hash=secrets.token_hash(key),
                           estate_ids=[estate.id], scopes=["reports:read"]))
        await session.commit()
        r = await client.post(CHANGE, json=body, headers=bearer(key))
        assert r.status_code == 401
        assert r.json()["type"] == "/problems/invalid-token"

    async def test_change_ends_every_session_and_gives_a_fresh_token(self, client, session, app):
        estate = await make_estate(session)
        me = await make_staff(session, estates=[estate], username="zhao.gang")
        other = await second_session(client, "zhao.gang")
        r = await client.post(CHANGE, json={"current_password": PASSWORD, "new_password": STRONG}, headers=me.headers)
        assert r.status_code == 200, r.text
        fresh = r.json()["access_token"]
        assert r.json()["user"]["username"] == "zhao.gang"
        assert (await client.get(ME, headers=me.headers)).status_code == 401
        assert (await client.get(ME, headers=bearer(other))).status_code == 401
        assert (await client.get(ME, headers=bearer(fresh))).status_code == 200
        assert (await client.post(LOGIN, json={"username": "zhao.gang", "password": PASSWORD})).status_code == 401
        assert (await client.post(LOGIN, json={"username": "zhao.gang", "password": STRONG})).status_code == 200
        async with app.state.sessionmaker() as s:
            entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "change_password"))).scalar_one()
        assert entry.entity_id == str(me.id) and entry.after == {"tokens_revoked": 2}
        assert STRONG not in str(entry.after) and PASSWORD not in str(entry.after)

    @pytest.fixture
    def clock(self, app):
        yield from override_clock(app, T0)

    async def test_wrong_current_password_is_refused_and_counted(self, client, session, app, settings, clock):
        estate = await make_estate(session)
        me = await make_staff(session, estates=[estate], username="sun.li")
        before = await hash_of(app, me.id)
        r = await client.post(CHANGE, json={"current_password": "not-my-password", "new_password": STRONG}, headers=me.headers)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/current-password-wrong"
        assert r.json()["field"] == "current_password"
        assert await hash_of(app, me.id) == before
        assert (await client.get(ME, headers=me.headers)).status_code == 200
        # Guessing through a stolen token meets the same throttle as guessing at the sign-in.
        for _ in range(settings.login_max_failures - 1):
            await client.post(CHANGE, json={"current_password": "not-my-password", "new_password": STRONG}, headers=me.headers)
        r = await client.post(CHANGE, json={"current_password": PASSWORD, "new_password": STRONG}, headers=me.headers)
        assert r.status_code == 429
        assert r.json()["type"] == "/problems/sign-in-throttled" and int(r.headers["Retry-After"]) > 0
        assert await hash_of(app, me.id) == before

    @pytest.mark.parametrize("weak", ["password", "1234567890", "sun.li.2026"])
    async def test_weak_new_password_is_422_naming_the_field(self, client, session, app, weak):
        estate = await make_estate(session)
        me = await make_staff(session, estates=[estate], username="sun.li")
        before = await hash_of(app, me.id)
        r = await client.post(CHANGE, json={"current_password": PASSWORD, "new_password": weak}, headers=me.headers)
        assert_weak(r, "new_password")
        assert await hash_of(app, me.id) == before
        assert (await client.get(ME, headers=me.headers)).status_code == 200

    async def test_bad_input_is_422(self, client, session):
        estate = await make_estate(session)
        me = await make_staff(session, estates=[estate])
        for body, field in [({"new_password": STRONG}, "current_password"), ({"current_password": PASSWORD}, "new_password"),
                            ({"current_password": "x\x00", "new_password": STRONG}, "current_password"),
                            ({"current_password": PASSWORD, "new_password": "x" * 129}, "new_password")]:
            r = await client.post(CHANGE, json=body, headers=me.headers)
            assert r.status_code == 422, body
            assert field in [e["field"] for e in r.json()["errors"]]


def test_the_estimator_explains_itself():
    assert secrets.password_weakness(STRONG) is None
    assert "common" in secrets.password_weakness("password123")
    assert "10 characters" in secrets.password_weakness("Xq7#")
    assert "own name" in secrets.password_weakness("zhang.wei.2026", user_inputs=["zhang.wei", "張偉"])
    assert secrets.password_weakness("zhang.wei.2026") is None
    assert secrets.password_weakness(uuid.uuid4().hex * 4) is None  # 128 characters: measured, not refused


def test_the_demo_and_test_passwords_pass_the_rule():
    from app.demo import DEMO_PASSWORD
    from bench.bigdata.plan import PASSWORD as BENCH_PASSWORD

    for password in (DEMO_PASSWORD, BENCH_PASSWORD, PASSWORD, STRONG):
        assert secrets.password_weakness(password, user_inputs=["qs.reception", "admin"]) is None, password
