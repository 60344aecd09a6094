"""Stream tickets: a browser's EventSource, which cannot send Authorization, opens the stream once."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.events.tickets import StreamTicket
from tests.factories import make_staff
from tests.helpers.payments import API, desk, pay
from tests.helpers.problems import assert_422, assert_problem
from tests.helpers.stream import served
from tests.registry_factories import count_rows

TICKETS = f"{API}/stream/tickets"


async def ticket(client, staff) -> dict:
    r = await client.post(TICKETS, headers=staff.headers)
    assert r.status_code == 201, r.text
    return r.json()


class EventSourceLike:
    """What a browser's EventSource sends: the URL, Accept and Last-Event-ID on its own reconnects;
    never an Authorization header. Speaks HTTP/1.1 over a plain socket, so nothing adds one."""

    def __init__(self, base: str, url: str) -> None:
        self.base, self.url = urlsplit(base), url

    async def open(self) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.base.hostname, self.base.port)
        writer.write((f"GET {self.url} HTTP/1.1\r\nHost: {self.base.netloc}\r\nAccept: text/event-stream\r\n"
                      "Cache-Control: no-cache\r\nOrigin: https://desk.example\r\n\r\n").encode())
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        return status, reader, writer

    @staticmethod
    async def events(reader: asyncio.StreamReader, n: int) -> list[dict]:
        """Frames off a chunked body (a chunk-size line, then the chunk): the first `n` events."""
        out: list[dict] = []
        current: dict = {}
        while len(out) < n:
            raw = await reader.readline()
            if not raw:
                break  # the stream ended: return what came (readline at EOF would spin, never yielding)
            line = raw.decode().strip()
            if line.startswith(("id:", "event:", "data:")):
                key, _, value = line.partition(": ")
                current[key] = value
            elif line == "" and "data" in current:
                out.append({"id": int(current["id"]), "type": current["event"], "data": json.loads(current["data"])})
                current = {}
        return out


class TestIssue:
    async def test_anonymous_401_nothing_written(self, client, session):
        assert_problem(await client.post(TICKETS), 401, "invalid-token")
        assert await count_rows(session, StreamTicket) == 0

    async def test_every_role_that_follows_the_stream_gets_one_good_for_a_minute(self, client, session):
        d = await desk(session)
        t = await ticket(client, d.staff)
        assert t["ticket"].startswith("pds_") and t["stream_url"] == f"{API}/stream?ticket={t['ticket']}"
        left = datetime.fromisoformat(t["expires_at"]) - utcnow()
        assert timedelta(seconds=50) < left <= timedelta(seconds=60)

    async def test_a_ticket_is_no_bearer_token(self, client, session):
        d = await desk(session)
        t = await ticket(client, d.staff)
        for url in (f"{API}/stream", f"{API}/units/{d.unit.id}/charges", TICKETS):
            r = await client.request("POST" if url == TICKETS else "GET", url, headers={"Authorization": f"Bearer {t['ticket']}"})
            assert_problem(r, 401, "invalid-token")


class TestRedeem:
    async def test_once_only_and_another_estate_404(self, client, session):
        d = await desk(session)
        t = await ticket(client, d.staff)
        r = await client.get(f"{API}/stream", params={"ticket": t["ticket"], "estate_id": str(d.other.id)})
        assert_problem(r, 404, "estate-not-found")
        # Refused, the connection spent nothing: the same ticket opens the user's own estate.
        r = await client.get(f"{API}/stream", params={"ticket": t["ticket"], "estate_id": str(d.estate.id)})
        assert r.status_code == 200 and r.text.startswith("retry:"), r.text
        r = await client.get(f"{API}/stream", params={"ticket": t["ticket"]})
        assert_problem(r, 401, "ticket-not-valid")

    async def test_expired_unknown_and_too_long(self, client, session):
        d = await desk(session)
        t = await ticket(client, d.staff)
        await session.execute(update(StreamTicket).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
        assert_problem(await client.get(f"{API}/stream", params={"ticket": t["ticket"]}), 401, "ticket-not-valid")
        assert_problem(await client.get(f"{API}/stream", params={"ticket": "pds_nope"}), 401, "ticket-not-valid")
        assert_422(await client.get(f"{API}/stream", params={"ticket": "x" * 101}), "ticket")

    async def test_signing_out_or_being_disabled_leaves_it_worthless(self, client, session):
        d = await desk(session)
        t = await ticket(client, d.staff)
        assert (await client.post(f"{API}/auth/logout", headers=d.staff.headers)).status_code in (200, 204)
        assert_problem(await client.get(f"{API}/stream", params={"ticket": t["ticket"]}), 401, "ticket-not-valid")

    async def test_two_connections_racing_with_one_ticket_one_wins(self, client, session):
        d = await desk(session)
        for _ in range(3):
            t = await ticket(client, d.staff)
            answers = await asyncio.gather(*[client.get(f"{API}/stream", params={"ticket": t["ticket"]}) for _ in range(2)])
            assert sorted(r.status_code for r in answers) == [200, 401], [r.text[:100] for r in answers]


@pytest.mark.parametrize("role", [Role.receptionist, Role.supervisor])
async def test_a_browser_follows_the_stream_with_tickets_and_resumes(client, session, settings, role):
    d = await desk(session)
    staff = await make_staff(session, estates=[d.estate], roles=[role])
    # A stream that outlives a slow payment on a busy machine: the test closes its connections itself.
    async with served(settings, stream_max_seconds=30.0) as base:
        source = EventSourceLike(base, (await ticket(client, staff))["stream_url"])
        status, reader, writer = await source.open()
        assert status == 200
        paid = (await pay(client, d, amount="160.56")).json()
        [event] = await asyncio.wait_for(source.events(reader, 1), timeout=5)
        assert event["type"] == "payment.received" and event["data"]["data"]["receipt_number"] == paid["receipt"]["number"]
        writer.close()
        # EventSource reconnects to the same URL by itself: the spent ticket is refused...
        assert (await source.open())[0] == 401
        # ...so the app takes a new one and opens a new EventSource after the last id it saw.
        await pay(client, d, amount="45.00")
        fresh = (await ticket(client, staff))["stream_url"]
        status, reader, writer = await EventSourceLike(base, f"{fresh}&last_event_id={event['id']}").open()
        assert status == 200
        [missed] = await asyncio.wait_for(EventSourceLike.events(reader, 1), timeout=5)
        writer.close()
    assert missed["id"] > event["id"] and missed["data"]["data"]["amount"] == "45.00"
