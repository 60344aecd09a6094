"""Passwords: strong enough wherever one is set."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.domain.auth import secrets
from app.domain.auth.model import User
from app.domain.auth.roles import Role
from tests.factories import PASSWORD, make_estate, make_staff

USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"
STRONG = "amber-kettle-47"
# Each one the old rule (eight characters) let through.
WEAK = ["12345678", "password", " " * 8, "password123", "1234567890", "qwertyuiop", " " * 10, "Password2026"]


async def hash_of(app, user_id) -> str:  # noqa: ANN001
    async with app.state.sessionmaker() as s:
        return (await s.get(User, user_id)).password_hash


def assert_weak(r, field: str) -> None:  # noqa: ANN001
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
