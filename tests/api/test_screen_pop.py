"""Screen pop: the desk's phone rings, and every desk screen of the estate shows who is calling."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
from sqlalchemy import func, select

from app.domain.auth import secrets
from app.domain.auth.model import ApiKey
from app.domain.auth.roles import Role
from app.domain.calendar import estate_time
from app.domain.events.model import OutboxEvent, WebhookDelivery, WebhookEndpoint
from app.domain.registry.model import Title
from tests.factories import make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.helpers.problems import assert_422
from tests.helpers.stream import read_events, served
from tests.registry_factories import make_building, make_owner, make_unit, two_estates

API = "/api/v1"
WANG = "133 5173 7459"


async def arrange(session):
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2", number="301")
    await make_owner(session, estate=estate, full_name="王建國", title=Title.mr, phones=[WANG], units=[unit])
    await make_owner(session, estate=other, full_name="趙六", phones=[WANG],
                     units=[await make_unit(session, building=await make_building(session, estate=other, number=8))])
    await make_charge(session, unit=unit, item=await make_fee_item(session, estate=estate), amount="120.00",
                      due_date=date(2026, 10, 1))
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    return estate, other, desk


async def telephony_key(session, estate, scopes=("calls:answer",)) -> dict[str, str]:
    key = secrets.new_token(secrets.API_KEY_PREFIX)
    session.add(ApiKey(company_id=estate.company_id, name="总机", prefix=key[:12], key_hash=secrets.token_hash(key),
                       estate_ids=[estate.id], scopes=list(scopes)))
    await session.commit()
    return {"Authorization": f"Bearer {key}"}


async def calls_written(session) -> int:
    return (await session.execute(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "call.incoming"))).scalar_one()


def ring(client, estate, headers, phone=WANG, **extra):
    return client.post(f"{API}/estates/{estate.id}/calls", json={"phone": phone, **extra}, headers=headers)


async def test_the_call_pops_up_at_once_on_the_desk_and_nowhere_else(client, session, settings):
    estate, other, desk = await arrange(session)
    tech = await make_staff(session, estates=[estate], roles=[Role.technician])
    stranger = await make_staff(session, estates=[other], roles=[Role.receptionist])
    # Streams that poll twice a minute: only the commit's doorbell can bring the call within seconds.
    async with served(settings, stream_poll_seconds=30.0, stream_max_seconds=6.0) as base, \
            httpx.AsyncClient(base_url=base, timeout=30) as http, \
            http.stream("GET", f"{API}/stream", headers=desk.headers) as mine, \
            http.stream("GET", f"{API}/stream", headers=tech.headers) as techs, \
            http.stream("GET", f"{API}/stream", headers=stranger.headers) as theirs:
        r = await ring(client, estate, desk.headers, line="8001")
        assert r.status_code == 200, r.text
        [event] = await asyncio.wait_for(read_events(mine, 1), timeout=5.0)
        assert await read_events(techs, 1) == [] and await read_events(theirs, 1) == []
    assert event["type"] == "call.incoming" and event["id"] == r.json()["event_id"]
    data = event["data"]["data"]
    assert (data["dialled"], data["line"], data["call_id"]) == (WANG, "8001", r.json()["id"])
    [owner] = data["lookup"]["owners"]
    assert owner["full_name"] == "王建國" and [u["label"] for u in owner["units"]] == ["8号楼2单元301"]
    assert owner["arrears"]["total"] == "120.00"
    assert data["lookup"] == r.json()["lookup"]
    assert "趙六" not in str(event)


async def test_a_telephony_key_rings_and_sees_no_arrears_which_the_desk_does(client, session):
    estate, _, desk = await arrange(session)
    r = await ring(client, estate, await telephony_key(session, estate), phone="+86 13351737459")
    assert r.status_code == 200, r.text
    assert r.json()["lookup"]["phone"] == "13351737459"
    [owner] = r.json()["lookup"]["owners"]
    assert owner["full_name"] == "王建國" and owner["arrears"] is None
    [call] = (await client.get(f"{API}/estates/{estate.id}/calls", headers=desk.headers)).json()
    assert call["id"] == r.json()["id"] and call["lookup"]["owners"][0]["arrears"]["total"] == "120.00"


async def test_the_days_calls_latest_first_and_another_day_is_empty(client, session):
    estate, _, desk = await arrange(session)
    first = (await ring(client, estate, desk.headers)).json()
    second = (await ring(client, estate, desk.headers, phone="139 0000 0000")).json()
    assert second["lookup"] == {"phone": "13900000000", "owners": []}
    listed = (await client.get(f"{API}/estates/{estate.id}/calls", headers=desk.headers)).json()
    assert [c["id"] for c in listed] == [second["id"], first["id"]]
    yesterday = estate_time.today(estate) - timedelta(days=1)
    r = await client.get(f"{API}/estates/{estate.id}/calls", params={"date": yesterday.isoformat()}, headers=desk.headers)
    assert r.status_code == 200 and r.json() == []


async def test_who_may_ring_and_read_calls(client, session):
    estate, other, desk = await arrange(session)
    assert (await ring(client, estate, {})).status_code == 401
    for role in (Role.technician, Role.finance, Role.manager):
        staff = await make_staff(session, estates=[estate], roles=[role])
        for r in (await ring(client, estate, staff.headers), await client.get(f"{API}/estates/{estate.id}/calls", headers=staff.headers)):
            assert r.status_code == 403 and r.json()["permission"] == "calls:answer", role
    reader = await telephony_key(session, estate, scopes=("registry:read",))
    assert (await ring(client, estate, reader)).status_code == 403
    for r in (await ring(client, other, desk.headers), await client.get(f"{API}/estates/{other.id}/calls", headers=desk.headers)):
        assert r.status_code == 404 and r.json()["type"] == "/problems/estate-not-found"
    assert await calls_written(session) == 0


async def test_bad_input_names_the_field_and_rings_nobody(client, session):
    estate, _, desk = await arrange(session)
    r = await ring(client, estate, desk.headers, phone="abc")
    assert r.status_code == 422 and r.json()["type"] == "/problems/unreadable-phone" and r.json()["field"] == "phone"
    for body, field in (({}, "phone"), ({"phone": ""}, "phone"), ({"phone": "1" * 61}, "phone"),
                        ({"phone": WANG, "line": "x" * 41}, "line"), ({"phone": 13351737459}, "phone")):
        assert_422(await client.post(f"{API}/estates/{estate.id}/calls", json=body, headers=desk.headers), field)
    assert_422(await client.get(f"{API}/estates/{estate.id}/calls", params={"date": "2026-13-01"}, headers=desk.headers), "date")
    assert await calls_written(session) == 0


async def test_a_retried_ring_pops_up_once(client, session):
    estate, _, desk = await arrange(session)
    headers = {**desk.headers, "Idempotency-Key": "call-8001-0930"}
    first, again = await ring(client, estate, headers), await ring(client, estate, headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert await calls_written(session) == 1


async def test_webhooks_get_calls_only_when_they_name_them(client, session):
    estate, _, desk = await arrange(session)
    everything = WebhookEndpoint(estate_id=estate.id, url="http://127.0.0.1:9/all", secret="s" * 32)
    named = WebhookEndpoint(estate_id=estate.id, url="http://127.0.0.1:9/calls", secret="s" * 32, event_types=["call.incoming"])
    session.add_all([everything, named])
    await session.commit()
    assert (await ring(client, estate, desk.headers)).status_code == 200
    deliveries = (await session.execute(select(WebhookDelivery.endpoint_id))).scalars().all()
    assert deliveries == [named.id]
