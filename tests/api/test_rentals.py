"""Rental entrustments (委托租賃, §7.3.14): take in, keep current, reserve, let or withdraw, search, photos."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.rentals.model import RentalEntrustment, RentalPhoto, RentalStatus
from tests import images
from tests.factories import make_staff
from tests.helpers.problems import assert_422, assert_problem
from tests.helpers.rentals import API, World, create, payload, world
from tests.registry_factories import count_rows, make_building, make_owner, make_unit

JPEG, PNG = images.JPEG, images.PNG


async def move(client, w: World, eid: str, action: str, body: dict | None = None):
    return await client.post(f"{API}/rental-entrustments/{eid}/{action}", json=body or {}, headers=w.agency.headers)


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        for method, path, body in [("GET", f"/estates/{w.estate.id}/rental-entrustments", None),
                                   ("POST", f"/estates/{w.estate.id}/rental-entrustments", payload(w)),
                                   ("GET", f"/rental-entrustments/{eid}", None), ("PATCH", f"/rental-entrustments/{eid}", {}),
                                   ("POST", f"/rental-entrustments/{eid}/reserve", {"reserved_for": "x"})]:
            assert (await client.request(method, API + path, json=body)).status_code == 401, path
        assert (await client.post(f"{API}/rental-entrustments/{eid}/photos", files={"photos": ("a.jpg", JPEG)})).status_code == 401

    async def test_technician_403_cs_director_reads_only(self, client, session):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        director = await make_staff(session, estates=[w.estate], roles=[Role.cs_director])
        assert (await client.get(f"{API}/rental-entrustments/{eid}", headers=w.tech.headers)).status_code == 403
        r = await client.post(f"{API}/estates/{w.estate.id}/rental-entrustments", json=payload(w), headers=w.tech.headers)
        assert r.status_code == 403
        assert (await client.get(f"{API}/rental-entrustments/{eid}", headers=director.headers)).status_code == 200
        r = await client.post(f"{API}/rental-entrustments/{eid}/withdraw", json={"reason": "x"}, headers=director.headers)
        assert r.status_code == 403
        assert (await session.get(RentalEntrustment, eid)).status == RentalStatus.open

    async def test_other_estate_404(self, client, session):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        outsider = await make_staff(session, estates=[w.other], roles=[Role.agency])
        assert (await client.get(f"{API}/rental-entrustments/{eid}", headers=outsider.headers)).status_code == 404
        assert (await client.patch(f"{API}/rental-entrustments/{eid}", json={"bedrooms": 1}, headers=outsider.headers)).status_code == 404
        r = await client.post(f"{API}/rental-entrustments/{eid}/reserve", json={"reserved_for": "x"}, headers=outsider.headers)
        assert r.status_code == 404
        r = await client.post(f"{API}/rental-entrustments/{eid}/photos", files={"photos": ("a.jpg", JPEG)}, headers=outsider.headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/estates/{w.estate.id}/rental-entrustments", headers=outsider.headers)).status_code == 404
        # A unit of another estate cannot be entrusted here.
        their_unit = await make_unit(session, building=await make_building(session, estate=w.other))
        r = await client.post(f"{API}/estates/{w.other.id}/rental-entrustments", json=payload(w), headers=w.agency.headers)
        assert r.status_code == 404
        r = await create(client, w, unit_id=str(their_unit.id))
        assert r.status_code == 422 and r.json()["type"] == "/problems/unit-not-in-estate"
        assert await count_rows(session, RentalEntrustment) == 1


class TestCreate:
    async def test_created_open_and_audited(self, client, session):
        w = await world(session)
        r = await create(client, w)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["status"], body["unit_label"], body["owner_name"], body["layout"]) == ("open", "8号楼2单元301", "王建國", "3室2厅1卫")
        assert (body["asking_rent"], body["area"], body["contact_phone"], body["furnishing"]) == ("3200.00", "89.20", "13900001111", "full")
        assert body["allowed_actions"] == ["reserve", "withdraw"] and body["photos"] == []
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.entity == "rental_entrustment"))).scalar_one()
        assert (entry.action, entry.entity_id) == ("rental_entrustment.create", body["id"])

    @pytest.mark.parametrize("over", [{"asking_rent": "0"}, {"asking_rent": "12.345"}, {"asking_rent": 1e20}, {"asking_rent": "NaN"},
                                      {"bedrooms": -1}, {"bedrooms": 21}, {"available_from": "2026-02-30"}, {"furnishing": "luxury"},
                                      {"description": "x" * 2001}, {"contact_note": "a\x00b"}, {"status": "let"}, {"unit_id": "x"}])
    async def test_bad_input_422_nothing_written(self, client, session, over):
        w = await world(session)
        r = await create(client, w, **over)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert_422(r, next(iter(over)))
        assert await count_rows(session, RentalEntrustment) == 0

    async def test_owner_must_own_the_unit_and_phone_be_readable(self, client, session):
        w = await world(session)
        stranger = await make_owner(session, estate=w.estate, full_name="陳小姐")
        r = await create(client, w, owner_id=str(stranger.id))
        assert r.status_code == 422 and r.json()["type"] == "/problems/owner-not-of-unit"
        r = await create(client, w, contact_phone="12")
        assert r.status_code == 422 and r.json()["type"] == "/problems/unreadable-phone"
        assert await count_rows(session, RentalEntrustment) == 0

    async def test_one_on_offer_per_unit(self, client, session):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        r = await create(client, w)
        assert r.status_code == 409 and r.json()["type"] == "/problems/unit-already-on-offer"
        await move(client, w, eid, "withdraw", {"reason": "業主自住"})
        assert (await create(client, w)).status_code == 201  # withdrawn ones are history


class TestLife:
    async def test_open_reserved_released_reserved_let(self, client, session):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        r = await move(client, w, eid, "reserve", {"reserved_for": "張先生 13912345678"})
        assert (r.status_code, r.json()["status"], r.json()["reserved_for"]) == (200, "reserved", "張先生 13912345678")
        r = await move(client, w, eid, "release", {"reason": "租客改變主意"})
        assert (r.json()["status"], r.json()["reason"], r.json()["reserved_at"]) == ("open", "租客改變主意", None)
        await move(client, w, eid, "reserve", {"reserved_for": "李小姐"})
        r = await move(client, w, eid, "let", {"agreed_rent": "3000.00"})
        assert (r.json()["status"], r.json()["agreed_rent"], r.json()["allowed_actions"]) == ("let", "3000.00", [])
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.entity_id == eid)
                                         .order_by(AuditEntry.id))).scalars().all()
        assert actions == [f"rental_entrustment.{a}" for a in ("create", "reserve", "release", "reserve", "let")]

    async def test_illegal_moves_409_and_edits_of_closed_ones(self, client, session):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        r = await move(client, w, eid, "let")
        assert r.status_code == 409 and r.json()["type"] == "/problems/illegal-transition"
        assert (await move(client, w, eid, "release", {"reason": "x"})).status_code == 409
        await move(client, w, eid, "withdraw", {"reason": "業主出售"})
        assert (await move(client, w, eid, "reserve", {"reserved_for": "x"})).status_code == 409
        r = await client.patch(f"{API}/rental-entrustments/{eid}", json={"asking_rent": "2800.00"}, headers=w.agency.headers)
        assert r.status_code == 409
        assert (await session.get(RentalEntrustment, eid)).asking_rent == Decimal("3200.00")

    @pytest.mark.parametrize(("action", "body"), [("withdraw", {}), ("withdraw", {"reason": "  "}), ("reserve", {}),
                                                   ("let", {"agreed_rent": "-1"})])
    async def test_transition_bodies_422(self, client, session, action, body):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        assert_422(
            await move(client, w, eid, action, body), {"withdraw": "reason", "reserve": "reserved_for", "let": "agreed_rent"}[action]
        )
        assert (await session.get(RentalEntrustment, eid)).status == RentalStatus.open

    async def test_update_details(self, client, session):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        r = await client.patch(
            f"{API}/rental-entrustments/{eid}",
            json={"asking_rent": "2900.50", "bedrooms": 2, "contact_phone": "0392-6540615"},
            headers=w.agency.headers,
        )
        assert r.status_code == 200, r.text
        assert (r.json()["asking_rent"], r.json()["layout"], r.json()["contact_phone"]) == ("2900.50", "2室2厅1卫", "03926540615")
        assert r.json()["updated_at"] is not None
        r = await client.patch(f"{API}/rental-entrustments/{eid}", json={"bedrooms": 99}, headers=w.agency.headers)
        assert r.status_code == 422
        assert_422(r, "bedrooms")


class TestSearch:
    async def test_filters_and_paging(self, client, session):
        w = await world(session)
        building = await make_building(session, estate=w.estate, number=9)
        listings = [("1800.00", 1, "2026-05-01"), ("2600.00", 2, "2026-06-15"), ("3500.00", 3, "2026-07-01")]
        ids = []
        for rent, rooms, available in listings:
            unit = await make_unit(session, building=building)
            owner = await make_owner(session, estate=w.estate, units=[unit])
            ids.append(
                (
                    await create(
                        client, w, unit_id=str(unit.id), owner_id=str(owner.id), asking_rent=rent, bedrooms=rooms, available_from=available
                    )
                ).json()["id"]
            )
        await move(client, w, ids[2], "reserve", {"reserved_for": "x"})
        url = f"{API}/estates/{w.estate.id}/rental-entrustments"

        async def found(query: str) -> list[str]:
            r = await client.get(f"{url}?{query}", headers=w.agency.headers)
            assert r.status_code == 200, r.text
            return [i["id"] for i in r.json()["items"]]

        assert await found("") == ids  # cheapest first
        assert await found("rent_min=2000&rent_max=3000") == [ids[1]]
        assert await found("bedrooms=1") == [ids[0]]
        assert await found("bedrooms_min=2&status=open") == [ids[1]]
        assert await found("available_by=2026-06-30") == ids[:2]
        assert await found("sort=-asking_rent&limit=1") == [ids[2]]
        assert await found(f"building_id={building.id}&offset=1") == ids[1:]
        r = await client.get(f"{url}?rent_min=3000&rent_max=2000", headers=w.agency.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/rent-range-reversed"
        for bad in ("rent_min=-1", "rent_max=abc", "bedrooms=99", "status=gone", "sort=owner", "available_by=2026-13-01"):
            assert (await client.get(f"{url}?{bad}", headers=w.agency.headers)).status_code == 422, bad


class TestPhotos:
    async def test_upload_stream_and_refusals(self, client, session, settings):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        url = f"{API}/rental-entrustments/{eid}/photos"
        r = await client.post(
            url, files=[("photos", ("客廳.jpg", JPEG, "image/png")), ("photos", ("../x.png", PNG))], headers=w.agency.headers
        )
        assert r.status_code == 201, r.text
        photos = r.json()["photos"]
        assert [(p["content_type"], p["original_filename"]) for p in photos] == [("image/jpeg", "客廳.jpg"), ("image/png", "x.png")]
        r = await client.get(f"{url}/{photos[0]['id']}", headers=w.agency.headers)
        assert r.status_code == 200 and images.same_picture(r.content, JPEG) and r.headers["content-type"] == "image/jpeg"
        r = await client.post(url, files={"photos": ("fake.jpg", b"not an image", "image/jpeg")}, headers=w.agency.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/unsupported-file-type"
        r = await client.post(url, files=[("photos", (f"{i}.jpg", JPEG)) for i in range(11)], headers=w.agency.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/too-many-photos"
        assert await count_rows(session, RentalPhoto) == 2
        assert len([p for p in settings.upload_dir.rglob("*") if p.is_file()]) == 2

    async def test_photos_are_decoded_and_stripped(self, client, session, settings):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        url = f"{API}/rental-entrustments/{eid}/photos"
        for data, problem in (
            (b"\x89PNG\r\n\x1a\n", "/problems/unreadable-image"),
            (images.bomb_png(10_000, 10_000), "/problems/image-too-large"),
        ):
            r = await client.post(url, files=[("photos", ("ok.jpg", JPEG)), ("photos", ("x.png", data))], headers=w.agency.headers)
            assert r.status_code == 422 and (r.json()["type"], r.json()["field"]) == (problem, "photos.1"), r.text
        assert await count_rows(session, RentalPhoto) == 0
        assert not [p for p in settings.upload_dir.rglob("*") if p.is_file()]
        sent = images.picture("WEBP", size=(40, 20), exif=images.spy_exif(orientation=8))
        r = await client.post(url, files={"photos": ("客廳.webp", sent)}, headers=w.agency.headers)
        assert r.status_code == 201, r.text
        [photo] = r.json()["photos"]
        got = (await client.get(f"{url}/{photo['id']}", headers=w.agency.headers)).content
        stored = images.decoded(got)
        assert (stored.format, stored.size, dict(stored.getexif())) == ("WEBP", (20, 40), {})
        assert images.SPY.encode() not in got and photo["content_type"] == "image/webp"

    async def test_photo_of_another_entrustment_404_and_closed_ones_refuse_photos(self, client, session):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        url = f"{API}/rental-entrustments/{eid}/photos"
        photo_id = (await client.post(url, files={"photos": ("a.jpg", JPEG)}, headers=w.agency.headers)).json()["photos"][0]["id"]
        unit = await make_unit(session, building=await make_building(session, estate=w.estate))
        owner = await make_owner(session, estate=w.estate, units=[unit])
        other = (await create(client, w, unit_id=str(unit.id), owner_id=str(owner.id))).json()["id"]
        assert (await client.get(f"{API}/rental-entrustments/{other}/photos/{photo_id}", headers=w.agency.headers)).status_code == 404
        await move(client, w, eid, "withdraw", {"reason": "x"})
        assert_problem(await client.post(url, files={"photos": ("b.jpg", JPEG)}, headers=w.agency.headers), 409, "illegal-transition")
        assert await count_rows(session, RentalPhoto) == 1
