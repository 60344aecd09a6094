"""The demo company: sizes, every role, clean phones, and a login that works."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.db import with_database
from app.demo import DEMO_PASSWORD, has_company, load_demo
from app.domain.audit.model import AuditEntry
from app.domain.auth.model import User, UserEstate
from app.domain.auth.roles import Role
from app.domain.registry.model import Building, Estate, Jurisdiction, Owner, OwnerPhone, Unit, UnitOwner


async def _count(session, model, *where) -> int:
    return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


@pytest.mark.demo
async def test_demo_sizes(session, demo_logins):
    logins = demo_logins
    assert await _count(session, Estate) == 2
    assert 9 <= await _count(session, Building) <= 11
    units = await _count(session, Unit)
    assert 550 <= units <= 650
    assert 650 <= await _count(session, Owner) <= 750
    assert await _count(session, Unit, Unit.is_public) >= 2
    vacant = await _count(session, Unit, Unit.is_vacant)
    assert 0.02 * units <= vacant <= 0.09 * units
    assert await _count(session, Jurisdiction, Jurisdiction.manager_id.is_not(None)) == 4
    assert await _count(session, AuditEntry, AuditEntry.action == "demo.load") == 1
    assert logins.password == DEMO_PASSWORD


@pytest.mark.demo
async def test_demo_roster_shape(session):
    private_units = await _count(session, Unit, Unit.is_public.is_(False))
    owned = (await session.execute(select(func.count(func.distinct(UnitOwner.unit_id))))).scalar_one()
    assert owned == private_units  # every flat has an owner, public parts none
    per_unit = select(UnitOwner.unit_id).group_by(UnitOwner.unit_id).having(func.count() > 1).subquery()
    co_owned = (await session.execute(select(func.count()).select_from(per_unit))).scalar_one()
    assert 0.10 * private_units <= co_owned <= 0.20 * private_units
    per_owner = select(UnitOwner.owner_id).group_by(UnitOwner.owner_id).having(func.count() > 1).subquery()
    assert (await session.execute(select(func.count()).select_from(per_owner))).scalar_one() >= 3
    phones = (await session.execute(select(OwnerPhone.phone))).scalars().all()
    assert phones and all(len(p) == 11 and p.isdigit() for p in phones)
    assert any(p.startswith("0392") for p in phones)
    owners = (await session.execute(select(Owner.full_name, Owner.surname, Owner.title))).all()
    assert all(2 <= len(n) <= 4 and n.startswith(s) and t in ("先生", "女士") for n, s, t in owners)
    assert sum(1 for _, s, _ in owners if s in "王李张刘陈") > len(owners) * 0.2


@pytest.mark.demo
async def test_demo_staff_every_role(session, demo_logins):
    logins = demo_logins
    users = (await session.execute(select(User))).scalars().all()
    roles = {r for u in users for r in u.roles}
    assert roles == {r.value for r in Role}
    admin = next(u for u in users if "admin" in u.roles)
    assert await _count(session, UserEstate, UserEstate.user_id == admin.id) == 2
    # Every person can sign in; the no-login user prepaid deductions are issued by is no one's login.
    assert {lg.username for lg in logins.logins} == {u.username for u in users if u.is_active}
    assert {u.full_name for u in users if not u.is_active} <= {"预存款自动抵扣"}
    assert "qs.reception" in {u.username for u in users}


async def test_demo_loads_into_an_empty_database_the_same_every_time(session, demo_template, pg_server):
    # The worker's demo template was loaded by another call of load_demo; this one must agree.
    assert not await has_company(session)
    second = await load_demo(session)
    assert await has_company(session)
    again = (await session.execute(select(Owner.full_name).order_by(Owner.full_name))).scalars().all()
    name, first = demo_template
    engine = create_async_engine(with_database(pg_server, name))
    async with AsyncSession(engine) as other:
        names = (await other.execute(select(Owner.full_name).order_by(Owner.full_name))).scalars().all()
    await engine.dispose()
    assert names == again
    assert first.counts == second.counts


@pytest.mark.demo
async def test_demo_login_over_http(client):
    r = await client.post("/api/v1/auth/login", json={"username": "qs.reception", "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["username"] == "qs.reception" and body["roles"] == ["receptionist"]
    assert len(body["estate_ids"]) == 1
    wrong = await client.post("/api/v1/auth/login", json={"username": "qs.reception", "password": "nope"})
    assert wrong.status_code == 401
