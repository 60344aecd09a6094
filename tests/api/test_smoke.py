from app.domain.auth.roles import Role
from tests.factories import make_estate, make_staff


async def test_health(client):
    r = await client.get("/healthz")
    assert r.status_code == 200


async def test_me_requires_token(client):
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_me(client, session):
    estate = await make_estate(session)
    staff = await make_staff(session, estates=[estate], roles=[Role.admin])
    r = await client.get("/api/v1/auth/me", headers=staff.headers)
    assert r.status_code == 200, r.text
    assert r.json()["estate_ids"] == [str(estate.id)]
