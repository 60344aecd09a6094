"""`Location` on every 201: each created thing names where a client reads it next."""
from __future__ import annotations

import re
import uuid

from fastapi.routing import APIRoute

from app.api.locations import LOCATIONS, location
from app.api.routes import ROUTERS
from tests.helpers.cancellations import ask, paid_desk
from tests.helpers.payments import API, desk, pay
from tests.helpers.prepaid import deposit
from tests.helpers.problems import assert_422

ROUTES = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def _matches_a_get(place: str) -> bool:
    path = place.split("?")[0]
    return any(re.fullmatch(re.sub(r"\{[a-z_]+\}", "[^/]+", r.path), path) for r in ROUTES if "GET" in r.methods)


def test_every_201_route_names_a_place_a_client_can_get():
    created = {r.name for r in ROUTES if r.status_code == 201}
    assert created == set(LOCATIONS), (created - set(LOCATIONS), set(LOCATIONS) - created)
    for name, template in LOCATIONS.items():
        filled = re.sub(r"\{[a-z_.]+(:year)?\}", "x", template)
        assert _matches_a_get(filled), (name, template)


def test_a_place_takes_the_answer_first_then_the_path_and_needs_every_name():
    assert location("take_payment", {"receipt": {"id": "r1"}}, {"unit_id": "u1"}) == "/api/v1/receipts/r1"
    assert location("print_receipt", None, {"receipt_id": "r2"}) == "/api/v1/receipts/r2/prints"
    assert location("add_day", {"day": "2027-02-10"}, {}) == "/api/v1/holiday-calendar/2027"
    assert location("take_payment", {"receipt": None}, {}) is None
    assert location("login", {"id": "x"}, {}) is None


async def test_created_things_are_found_where_location_says(client, session):
    d = await desk(session)
    paid = await pay(client, d, amount="160.56")
    deposited = await deposit(client, d, amount="50.00")
    ticket = await client.post(f"{API}/stream/tickets", headers=d.staff.headers)
    for r in (paid, deposited, ticket):
        assert r.status_code == 201, r.text
    assert paid.headers["location"] == f"{API}/receipts/{paid.json()['receipt']['id']}"
    assert deposited.headers["location"] == f"{API}/receipts/{deposited.json()['receipt']['id']}"
    assert ticket.headers["location"] == ticket.json()["stream_url"]
    for r in (paid, deposited):
        got = await client.get(r.headers["location"], headers=d.staff.headers)
        assert got.status_code == 200 and got.json()["number"] == r.json()["receipt"]["number"], got.text


async def test_a_replay_carries_the_same_location_and_a_refusal_none(client, session):
    d = await desk(session)
    key = str(uuid.uuid4())
    first, again = await pay(client, d, amount="160.56", key=key), await pay(client, d, amount="160.56", key=key)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    refused = await pay(client, d, amount="-1.00")
    assert_422(refused, "amount")
    assert "location" not in refused.headers


async def test_a_202_keeps_the_location_its_endpoint_gave(client, session):
    d, finance, _ = await paid_desk(session)
    await pay(client, d, amount="100.00")
    r = await ask(client, d.charges[0].id, finance)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"{API}/charge-cancellations/{r.json()['id']}"


async def test_the_api_description_documents_it(client):
    schema = (await client.get("/openapi.json")).json()
    created = schema["paths"]["/api/v1/units/{unit_id}/payments"]["post"]["responses"]["201"]
    assert "/api/v1/receipts/{receipt.id}" in created["headers"]["Location"]["description"]
