"""Every /api/v1 operation × every principal, against the hand-written table.

One app and one database for the whole walk. Each principal is a user holding just one
role in the estate (plus anonymous and a read-only API key). Path parameters are filled
with real records of that estate where the name is known, else a random id (an allowed
caller then gets 404). Deny is 403 (401 for anonymous); allow is anything but 401/403,
and never a 5xx.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.auth import secrets
from app.domain.auth.model import ApiKey, AuthToken, User, UserEstate
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.registry.model import Building, Company, Jurisdiction, Owner, OwnerPhone, Unit, UnitOwner
from tests.api.permission_table import ANON, API_KEY, EXPECTED, MANAGING, NARROW_ADMIN_VS_WIDE, expected
from tests.factories import PASSWORD, make_estate, make_staff

PRINCIPALS = [r.value for r in Role] + [API_KEY, ANON]
METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


@dataclass
class World:
    """What exists in the caller's estate, by the path-parameter names routes use."""

    ids: dict[str, str] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)  # role -> User
    api_key: str = ""
    login_username: str = ""


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    ops = [(m.upper(), p, op) for p, item in schema["paths"].items() if p.startswith("/api/v1/")
           for m, op in item.items() if m.upper() in METHOD_ORDER]
    # Deletions last, deepest first, so a deleted record cannot hide later operations.
    return sorted(ops, key=lambda o: (o[0] == "DELETE", -o[1].count("/") if o[0] == "DELETE" else 0,
                                      METHOD_ORDER[o[0]], o[1]))


def test_every_operation_has_a_row(app):
    ops = operations(app.openapi())
    keys = {f"{m} {p}" for m, p, _ in ops}
    missing = sorted(f"{m} {p}" for m, p, _ in ops if expected(m, p) is None)
    stale = sorted(EXPECTED.keys() - keys)
    assert not missing, f"add these operations to tests/api/permission_table.py: {missing}"
    assert not stale, f"these rows name no operation any more: {stale}"


async def build_world(session) -> World:
    estate = await make_estate(session)
    world = World()
    for role in Role:
        world.users[role.value] = (await make_staff(session, estates=[estate], roles=[role])).user
    target = await make_staff(session, estates=[estate], roles=[Role.receptionist], username="matrix.target")
    world.login_username = (await make_staff(session, estates=[estate], username="matrix.login")).user.username
    key = secrets.new_token(secrets.API_KEY_PREFIX)
    session.add(ApiKey(company_id=estate.company_id, name="integration", prefix=key[:12], key_hash=secrets.token_hash(key),
                       estate_ids=[estate.id], scopes=["registry:read", "reports:read", "fee_reports:read"]))
    victim = ApiKey(company_id=estate.company_id, name="to-revoke", prefix="pdk_victim", key_hash="0" * 64,
                    estate_ids=[estate.id], scopes=["reports:read"])
    session.add(victim)
    jurisdiction = Jurisdiction(estate_id=estate.id, name="東區", manager_id=world.users["manager"].id)
    session.add(jurisdiction)
    await session.flush()
    building = Building(estate_id=estate.id, name="8号楼", number=8, jurisdiction_id=jurisdiction.id)
    session.add(building)
    await session.flush()
    unit = Unit(estate_id=estate.id, building_id=building.id, entrance="2", number="301", floor=3, area=Decimal("89.20"))
    owner = Owner(estate_id=estate.id, full_name="王建國", surname="王")
    session.add_all([unit, owner])
    await session.flush()
    session.add_all([UnitOwner(estate_id=estate.id, unit_id=unit.id, owner_id=owner.id),
                     OwnerPhone(estate_id=estate.id, owner_id=owner.id, phone="13800138000", raw="138 0013 8000")])
    await session.commit()
    world.api_key = key
    world.ids = {
        "estate_id": str(estate.id), "user_id": str(target.id), "key_id": str(victim.id),
        "jurisdiction_id": str(jurisdiction.id), "building_id": str(building.id), "unit_id": str(unit.id),
        "owner_id": str(owner.id), "phone": "13800138000", "name": "purge-expired-tokens",
    }
    return world


async def fresh_token(session, user) -> str:
    token = secrets.new_token()
    session.add(AuthToken(user_id=user.id, token_hash=secrets.token_hash(token), expires_at=utcnow() + timedelta(hours=1)))
    await session.commit()
    return token


def fill_path(path: str, op: dict, world: World) -> str:
    for param in op.get("parameters", []):
        if param["in"] != "path":
            continue
        value = world.ids.get(param["name"])
        if value is None:
            value = str(uuid.uuid4()) if param.get("schema", {}).get("format") == "uuid" else "x"
        path = path.replace("{" + param["name"] + "}", value)
    return path


def _resolve(schema: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def sample(schema: dict, node: Any, name: str, world: World) -> Any:
    """A plausible minimal value for a body field: real ids where the name says which."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return sample(schema, next(v for v in node["anyOf"] if v.get("type") != "null"), name, world)
    if "enum" in node:
        return node["enum"][0]
    kind, fmt = node.get("type"), node.get("format")
    if kind == "array":
        item = name[:-1] if name.endswith("s") else name
        return [sample(schema, node.get("items", {}), item, world)]
    if kind == "object":
        return {k: sample(schema, v, k, world) for k, v in node.get("properties", {}).items() if k in node.get("required", [])}
    if kind in ("integer", "number"):
        return max(1, node.get("minimum", node.get("exclusiveMinimum", 0) + 1))
    if kind == "boolean":
        return False
    if fmt == "uuid":
        return world.ids.get(name, world.ids.get(f"{name}_id", str(uuid.uuid4())))
    if fmt == "date":
        return date.today().isoformat()
    if fmt == "date-time":
        return utcnow().isoformat()
    if name == "username":
        return f"m{uuid.uuid4().hex[:10]}"
    if name in ("password", "new_password"):
        return "amber-kettle-47"
    return "8号楼" if "name" in name else "x"


def body_for(method: str, path: str, op: dict, schema: dict, world: World) -> dict[str, Any]:
    if path == "/api/v1/auth/login":
        return {"json": {"username": world.login_username, "password": PASSWORD}}
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return {"json": sample(schema, content["application/json"]["schema"], "body", world)}
    if "multipart/form-data" in content:
        return {"files": {"file": ("roster.csv", "樓號,單元,房號,面積,業主,電話\n".encode("gb18030"), "text/csv")}}
    return {"json": {}} if method in ("POST", "PUT", "PATCH") else {}


GROUPS = 3  # principals split so that test workers share the walk
# Called by a payment channel and answered in its own format ({"code": "FAIL", "message": ...}, `failure`).
CHANNEL_FORMAT = {"/api/v1/payment-channels/wechat/notify/{estate_id}", "/api/v1/payment-channels/alipay/notify/{estate_id}",
                  "/api/v1/payment-channels/wechat/refund-notify/{estate_id}"}


@pytest.mark.parametrize("group", range(GROUPS))
async def test_permission_matrix(app, client, session, group):
    schema = app.openapi()
    world = await build_world(session)
    tokens = {role: await fresh_token(session, user) for role, user in world.users.items()}
    tokens[API_KEY] = world.api_key
    problems: list[str] = []
    calls = 0
    for method, path, op in operations(schema):
        allowed = expected(method, path)
        if allowed is None:
            continue  # reported by test_every_operation_has_a_row
        for who in PRINCIPALS[group::GROUPS]:
            headers = {"Authorization": f"Bearer {tokens[who]}"} if who != ANON else {}
            url = fill_path(path, op, world)
            r = await client.request(method, url, headers=headers, **body_for(method, path, op, schema, world))
            calls += 1
            if path in ("/api/v1/auth/logout", "/api/v1/auth/password") and who not in (ANON, API_KEY):
                tokens[who] = await fresh_token(session, world.users[who])
            outcome = f"{method} {path} as {who}: {r.status_code} {r.text[:160]}"
            if r.status_code >= 500:
                problems.append("5xx  " + outcome)
            elif who in allowed and r.status_code in (401, 403):
                problems.append("DENIED but expected allowed  " + outcome)
            elif who not in allowed and who == ANON and r.status_code != 401:
                problems.append("anonymous not 401  " + outcome)
            elif who not in allowed and who == API_KEY and r.status_code not in (401, 403):
                problems.append("ALLOWED api key but expected denied  " + outcome)
            elif who not in allowed and who not in (ANON, API_KEY) and r.status_code != 403:
                problems.append("ALLOWED but expected 403  " + outcome)
            if r.status_code in (401, 403, 404, 405, 409, 422, 429) and not r.headers.get("content-type", "").startswith(
                    "application/problem+json") and path not in CHANNEL_FORMAT:
                problems.append("not problem+json  " + outcome)
    assert calls > 0
    assert not problems, f"{len(problems)} of {calls} calls disagree with permission_table.py:\n" + "\n".join(problems)


# --- managing needs all of the account's estates ------------------------------------------


def test_every_managing_operation_has_a_scope_row(app):
    managing = {f"{m} {p}" for m, p, _ in operations(app.openapi()) if m != "GET" and re.match(MANAGING, p)}
    assert managing == set(NARROW_ADMIN_VS_WIDE), "add the verb to NARROW_ADMIN_VS_WIDE in tests/api/permission_table.py"


@dataclass
class Scoped:
    """Estates A and B; an admin of A only; an account and a key in A only, and in A and B."""

    admin: Any
    narrow: dict[str, str]
    wide: dict[str, str]
    estates: tuple[str, str]


async def build_scoped(session) -> Scoped:
    a = await make_estate(session)
    b = await make_estate(session, company=await session.get(Company, a.company_id))
    admin = await make_staff(session, estates=[a], roles=[Role.admin])
    company_admin = await make_staff(session, estates=[a, b], roles=[Role.admin])
    local = await make_staff(session, estates=[a], roles=[Role.receptionist])
    keys = {}
    for name, estates in (("narrow", [a.id]), ("wide", [a.id, b.id])):
        keys[name] = ApiKey(company_id=a.company_id, name=name, prefix="pdk_" + name, key_hash=name.ljust(64, "0"),
                            estate_ids=estates, scopes=["reports:read"])
        session.add(keys[name])
    await session.commit()
    return Scoped(admin=admin, estates=(str(a.id), str(b.id)),
                  narrow={"user_id": str(local.id), "key_id": str(keys["narrow"].id), "estate_ids": [str(a.id)]},
                  wide={"user_id": str(company_admin.id), "key_id": str(keys["wide"].id), "estate_ids": [str(a.id), str(b.id)]})


def scoped_bodies(operation: str, target: dict[str, Any], world: Scoped) -> list[dict[str, Any] | None]:
    if operation == "POST /api/v1/users":
        return [{"username": f"m{uuid.uuid4().hex[:10]}", "password": "amber-kettle-47", "full_name": "王芳",
                 "roles": ["receptionist"], "estate_ids": target["estate_ids"]}]
    if operation == "POST /api/v1/api-keys":
        return [{"name": "x", "estate_ids": target["estate_ids"]}]
    if operation.endswith("/reset-password"):
        return [{"new_password": "amber-kettle-47"}]
    if operation.startswith("PATCH "):
        return [{"full_name": "改了"}, {"roles": ["admin"]}, {"estate_ids": [world.estates[0]]}, {"phone": None},
                {"is_active": False}]
    return [None]


async def accounts_and_keys(app) -> list[tuple]:
    async with app.state.sessionmaker() as s:
        users = (await s.execute(select(User.id, User.full_name, User.roles, User.is_active, User.password_hash))).all()
        links = (await s.execute(select(UserEstate.user_id, UserEstate.estate_id))).all()
        keys = (await s.execute(select(ApiKey.id, ApiKey.estate_ids, ApiKey.revoked_at))).all()
    return sorted(map(tuple, users)) + sorted(map(tuple, links)) + sorted(map(tuple, keys), key=str)


@pytest.mark.parametrize("operation", sorted(NARROW_ADMIN_VS_WIDE))
async def test_narrow_admin_vs_wide_account(app, client, session, operation):
    world = await build_scoped(session)
    method, path = operation.split(" ", 1)
    before = await accounts_and_keys(app)
    for body in scoped_bodies(operation, world.wide, world):
        url = re.sub(r"\{(\w+)\}", lambda m: world.wide[m.group(1)], path)
        r = await client.request(method, url, headers=world.admin.headers, json=body)
        assert r.status_code == 403, (operation, body, r.text)
        assert r.json()["type"] == f"/problems/{NARROW_ADMIN_VS_WIDE[operation]}", (operation, body, r.text)
    assert await accounts_and_keys(app) == before, f"{operation} refused but wrote"
    # The same verb on what lies wholly within the admin's estate is allowed.
    for body in scoped_bodies(operation, world.narrow, world):
        url = re.sub(r"\{(\w+)\}", lambda m: world.narrow[m.group(1)], path)
        r = await client.request(method, url, headers=world.admin.headers, json=body)
        assert r.status_code in (200, 201), (operation, body, r.text)
