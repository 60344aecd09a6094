"""GET /company (staff) and PATCH /company (admins): the details receipts and notices print."""
from __future__ import annotations

from sqlalchemy import func, select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Company
from tests.factories import make_company, make_estate, make_staff

API = "/api/v1"
DETAILS = {"legal_name": "新乡市祥瑞物业服务有限公司", "address": "河南省新乡市红旗区平原路 88 号",
           "phone": "0373-5551234", "credit_code": "91410700MA3X4B2K1P"}


async def _company(session, company_id):
    return (await session.execute(select(Company).where(Company.id == company_id).execution_options(populate_existing=True))).scalar_one()


class TestGetCompany:
    async def test_anonymous_401(self, client):
        assert (await client.get(f"{API}/company")).status_code == 401

    async def test_staff_read_their_own_company(self, client, session):
        estate = await make_estate(session)
        await make_estate(session)  # another company's
        staff = await make_staff(session, estates=[estate], roles=[Role.technician])
        r = await client.get(f"{API}/company", headers=staff.headers)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == str(estate.company_id) and r.json()["credit_code"] is None


class TestUpdateCompany:
    async def test_anonymous_401(self, client):
        assert (await client.patch(f"{API}/company", json={"phone": "1"})).status_code == 401

    async def test_supervisor_403(self, client, session):
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        r = await client.patch(f"{API}/company", json=DETAILS, headers=staff.headers)
        assert r.status_code == 403
        assert (await _company(session, estate.company_id)).legal_name is None

    async def test_admin_updates_audited(self, client, session):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        r = await client.patch(f"{API}/company", json={**DETAILS, "credit_code": "91410700ma3x4b2k1p"}, headers=admin.headers)
        assert r.status_code == 200, r.text
        assert r.json() | DETAILS == r.json()  # upper-cased on the way in
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.entity == "company"))).scalar_one()
        assert entry.action == "update" and entry.before["credit_code"] is None
        assert entry.after["credit_code"] == DETAILS["credit_code"]

    async def test_bad_input_422_names_the_field(self, client, session):
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        for body, field in (({"credit_code": "91410700MA3X4B2K1Q"}, "credit_code"), ({"credit_code": "123"}, "credit_code"),
                            ({"legal_name": None}, "legal_name"), ({"phone": ""}, "phone"), ({"address": "x" * 201}, "address")):
            r = await client.patch(f"{API}/company", json=body, headers=admin.headers)
            assert r.status_code == 422, (body, r.text)
            assert field in {e["field"] for e in r.json()["errors"]} or field in r.text, r.text
        r = await client.patch(f"{API}/company", json={"credit_code": "91410700MA3X4B2K1Q"}, headers=admin.headers)
        assert "check character" in r.text
        assert (await _company(session, estate.company_id)).credit_code is None
        assert (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one() == 0

    async def test_credit_code_of_another_company_409(self, client, session):
        other = await make_company(session)
        other.credit_code = DETAILS["credit_code"]
        await session.commit()
        estate = await make_estate(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        r = await client.patch(f"{API}/company", json={"credit_code": DETAILS["credit_code"]}, headers=admin.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/credit-code-taken"
        assert (await _company(session, estate.company_id)).credit_code is None
