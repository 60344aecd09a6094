"""Safe concurrent edits (issue 19): ETag on GET and PATCH, If-Match checked under the row's lock.

The version is the database's: a trigger raises it on every UPDATE, whoever writes. A stale
If-Match is a 412 and nothing is written; two edits sent at once with one If-Match: exactly
one wins. With PROPDESK_REQUIRE_IF_MATCH an edit without If-Match is a 428.
"""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Owner
from tests.factories import make_staff
from tests.helpers.etags import assert_stale, if_match, race, version_of
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import make_building, make_owner, make_unit, two_estates

API = "/api/v1"
ROUNDS = 6


async def _owner_desk(session, *, desks: int = 1):
    estate, _ = await two_estates(session)
    owner = await make_owner(session, estate=estate, full_name="王建國")
    staff = [await make_staff(session, estates=[estate], roles=[Role.supervisor], full_name=f"前台{n}") for n in range(desks)]
    return owner, *staff


async def _stored_owner(session, owner_id) -> Owner:
    stmt = select(Owner).where(Owner.id == owner_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


class TestOwnerETag:
    async def test_get_answers_a_strong_etag_of_the_version(self, client, session):
        owner, staff = await _owner_desk(session)
        r = await client.get(f"{API}/owners/{owner.id}", headers=staff.headers)
        assert version_of(r) == 1 and r.headers["etag"] == '"1"'

    async def test_patch_with_the_current_tag_answers_the_next_version(self, client, session):
        owner, staff = await _owner_desk(session)
        r = await client.patch(f"{API}/owners/{owner.id}", json={"note": "鑰匙在管理處"}, headers=if_match(1, staff.headers))
        assert version_of(r) == 2 and r.json()["note"] == "鑰匙在管理處"
        assert version_of(await client.get(f"{API}/owners/{owner.id}", headers=staff.headers)) == 2
        stored = await _stored_owner(session, owner.id)
        assert (stored.version, stored.note) == (2, "鑰匙在管理處")

    async def test_the_database_raises_the_version_whoever_writes(self, client, session):
        # A hand-run SQL fix, a job's Core UPDATE: the trigger counts them too, so a desk that
        # read the record before is refused rather than writing over the fix.
        owner, staff = await _owner_desk(session)
        await session.execute(text("UPDATE owner SET note = '更正' WHERE id = :id"), {"id": owner.id})
        await session.execute(text("UPDATE owner SET note = '再更正' WHERE id = :id"), {"id": owner.id})
        await session.commit()
        assert version_of(await client.get(f"{API}/owners/{owner.id}", headers=staff.headers)) == 3
        r = await client.patch(f"{API}/owners/{owner.id}", json={"note": "x"}, headers=if_match(1, staff.headers))
        assert_stale(r, current=3)

    async def test_stale_tag_is_412_and_nothing_is_written(self, client, session):
        owner, staff = await _owner_desk(session)
        h = staff.headers
        assert (await client.patch(f"{API}/owners/{owner.id}", json={"note": "第一"}, headers=if_match(1, h))).status_code == 200
        audits = (await session.execute(select(AuditEntry.id))).all()
        r = await client.patch(f"{API}/owners/{owner.id}", json={"note": "第二", "full_name": "李娜"}, headers=if_match(1, h))
        assert_stale(r, current=2)
        stored = await _stored_owner(session, owner.id)
        assert (stored.version, stored.note, stored.full_name) == (2, "第一", "王建國")
        assert (await session.execute(select(AuditEntry.id))).all() == audits

    async def test_star_matches_whatever_version_the_record_is_at(self, client, session):
        owner, staff = await _owner_desk(session)
        for expected in (2, 3):
            r = await client.patch(f"{API}/owners/{owner.id}", json={"note": f"n{expected}"}, headers=if_match("*", staff.headers))
            assert version_of(r) == expected

    async def test_without_if_match_the_edit_goes_through_by_default(self, client, session):
        owner, staff = await _owner_desk(session)
        assert version_of(await client.patch(f"{API}/owners/{owner.id}", json={"note": "x"}, headers=staff.headers)) == 2

    async def test_an_edit_that_changes_nothing_keeps_the_version(self, client, session):
        owner, staff = await _owner_desk(session)
        r = await client.patch(f"{API}/owners/{owner.id}", json={"full_name": "王建國"}, headers=if_match(1, staff.headers))
        assert version_of(r) == 1

    @pytest.mark.parametrize("tag", ['W/"1"', "1", '"1", "2"', '"abc"', '""', '"1'])
    async def test_malformed_if_match_is_422_naming_the_header(self, client, session, tag):
        owner, staff = await _owner_desk(session)
        r = await client.patch(f"{API}/owners/{owner.id}", json={"note": "x"}, headers=if_match(tag, staff.headers))
        assert_422(r, "If-Match")
        assert (await _stored_owner(session, owner.id)).note == ""

    async def test_unknown_owner_is_still_404_with_a_tag(self, client, session):
        owner, staff = await _owner_desk(session)
        r = await client.patch(f"{API}/owners/{staff.user.id}", json={"note": "x"}, headers=if_match(1, staff.headers))
        assert_problem(r, 404, "owner-not-found")


class TestRequired:
    async def test_without_if_match_428_when_the_office_requires_it(self, client, session, settings, monkeypatch):
        monkeypatch.setattr(settings, "require_if_match", True)
        owner, staff = await _owner_desk(session)
        r = await client.patch(f"{API}/owners/{owner.id}", json={"note": "x"}, headers=staff.headers)
        assert_problem(r, 428, "if-match-required")
        assert (await _stored_owner(session, owner.id)).version == 1
        assert version_of(await client.patch(f"{API}/owners/{owner.id}", json={"note": "x"}, headers=if_match(1, staff.headers))) == 2
        # Reading needs no tag.
        assert version_of(await client.get(f"{API}/owners/{owner.id}", headers=staff.headers)) == 2

    async def test_anonymous_is_401_before_any_428(self, client, session, settings, monkeypatch):
        monkeypatch.setattr(settings, "require_if_match", True)
        owner, _ = await _owner_desk(session)
        assert (await client.patch(f"{API}/owners/{owner.id}", json={"note": "x"})).status_code == 401


async def test_two_desks_editing_one_owner_at_once_one_wins(client, session):
    """Real concurrent requests, each in its own session: the second waits for the first's lock,
    then sees the version the first committed, and is refused; the winner's note is stored."""
    owner, staff, other = await _owner_desk(session, desks=2)
    for n in range(ROUNDS):
        version = version_of(await client.get(f"{API}/owners/{owner.id}", headers=staff.headers))
        notes = (f"甲{n}", f"乙{n}")
        results = await asyncio.gather(*[
            client.patch(f"{API}/owners/{owner.id}", json={"note": note}, headers=if_match(version, who.headers))
            for note, who in zip(notes, (staff, other), strict=True)])
        assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
        winner = next(i for i, r in enumerate(results) if r.status_code == 200)
        assert version_of(results[winner]) == version + 1
        assert_stale(results[1 - winner], current=version + 1)
        stored = await _stored_owner(session, owner.id)
        assert (stored.version, stored.note) == (version + 1, notes[winner])



async def _race_rounds(client, method: str, url: str, bodies, headers, *, start: int) -> None:
    version = start
    for n in range(ROUNDS):
        results = await race(client, method, url, [b(n) for b in bodies], version=version, headers=headers)
        assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200)
        assert version_of(winner) == version + 1
        assert_stale(next(r for r in results if r.status_code == 412), current=version + 1)
        version += 1


async def test_two_edits_of_one_unit_at_once_one_wins(client, session):
    # The unit is loaded unlocked, then read again FOR UPDATE when the edit names a version.
    estate, _ = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate))
    staff = await make_staff(session, estates=[estate], roles=[Role.supervisor])
    await _race_rounds(client, "PATCH", f"{API}/units/{unit.id}", [lambda n: {"note": f"甲{n}"}, lambda n: {"note": f"乙{n}"}],
                       staff.headers, start=1)


async def test_two_first_saves_of_a_setting_at_once_one_wins(client, session):
    # Nothing stored yet (version 0), then a record kept in several rows: the counter row queues them.
    estate, _ = await two_estates(session)
    staff = await make_staff(session, estates=[estate], roles=[Role.supervisor])
    windows = {"urgent": {"amount": 24, "unit": "hours"}, "high": {"amount": 3, "unit": "days"}, "normal": {"amount": 7, "unit": "days"}}
    bodies = [lambda n: {**windows, "low": {"amount": 15 + n, "unit": "days"}},
              lambda n: {**windows, "low": {"amount": 30 + n, "unit": "days"}}]
    await _race_rounds(client, "PUT", f"{API}/estates/{estate.id}/complaint-deadlines", bodies, staff.headers, start=0)


async def test_two_first_saves_of_a_phone_script_at_once_one_wins(client, session):
    estate, _ = await two_estates(session)
    staff = await make_staff(session, estates=[estate], roles=[Role.supervisor])
    bodies = [lambda n: {"text": f"您好{n}，{{office_name}}"}, lambda n: {"text": f"喂{n}，{{office_name}}"}]
    await _race_rounds(client, "PUT", f"{API}/estates/{estate.id}/phone-scripts/greeting", bodies, staff.headers, start=0)
