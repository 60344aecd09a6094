"""Monthly complaint statistics, checked by hand against a month of known complaints."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.base import utcnow
from app.domain.complaints.model import Severity
from tests.helpers.complaints import API, SHANGHAI, S, register, seed, world


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def zeros(**over: Any) -> dict[str, Any]:
    return {"received": 0, "resolved_in_time": 0, "resolved_late": 0, "open": 0, "overdue": 0, "withdrawn": 0, "closed": 0,
            "satisfied": 0, "not_satisfied": 0, "satisfied_rate": None, "in_time_rate": None, **over}


class TestMonthlyStats:
    async def test_october_by_category_and_outcome(self, client, session):
        w = await world(session)
        e = w.estate.id
        future = utcnow() + timedelta(days=2)
        await seed(session, e, category="fees", status=S.closed, severity=Severity.high, received=local(2026, 10, 3, 9),
                   deadline=local(2026, 10, 6, 23, 59), resolved=local(2026, 10, 5, 10), answers=(True,))
        await seed(session, e, category="fees", status=S.closed, severity=Severity.high, received=local(2026, 10, 10, 9),
                   deadline=local(2026, 10, 20, 23, 59), resolved=local(2026, 10, 22, 10), answers=(False, True))
        await seed(session, e, category="noise", status=S.resolved, received=local(2026, 10, 12, 9),
                   deadline=local(2026, 10, 19, 23, 59), resolved=local(2026, 10, 18, 10))
        await seed(
            session, e, category="noise", status=S.in_progress, received=local(2026, 10, 15, 9), deadline=local(2026, 10, 22, 23, 59)
        )
        await seed(session, e, category="noise", status=S.assigned, received=local(2026, 10, 20, 9), deadline=future)
        await seed(
            session, e, category="cleaning", status=S.withdrawn, received=local(2026, 10, 21, 9), deadline=local(2026, 10, 28, 23, 59)
        )
        # 00:30 on 1 October in Shanghai is still 30 September in UTC: it is October's.
        await seed(
            session,
            e,
            category="parking",
            status=S.registered,
            severity=Severity.urgent,
            received=local(2026, 10, 1, 0, 30),
            deadline=local(2026, 10, 2, 0, 30),
        )
        # 01:00 on 1 November in Shanghai is 31 October in UTC: it is not.
        await seed(session, e, category="parking", status=S.registered, received=local(2026, 11, 1, 1), deadline=future)
        await seed(session, w.other.id, category="fees", status=S.registered, received=local(2026, 10, 5, 9), deadline=future)

        r = await client.get(f"{API}/estates/{e}/complaint-stats", params={"month": "2026-10"}, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["month"], got["start"], got["end"]) == ("2026-10", "2026-10-01", "2026-10-31")
        assert got["total"] == zeros(
            received=7,
            resolved_in_time=2,
            resolved_late=1,
            open=3,
            overdue=2,
            withdrawn=1,
            closed=2,
            satisfied=2,
            not_satisfied=1,
            satisfied_rate="0.6667",
            in_time_rate="0.4000",
        )
        lines = {line.pop("category"): line for line in got["by_category"]}
        assert len(lines) == 10
        assert lines["fees"] == zeros(
            received=2,
            resolved_in_time=1,
            resolved_late=1,
            closed=2,
            satisfied=2,
            not_satisfied=1,
            satisfied_rate="0.6667",
            in_time_rate="0.5000",
        )
        assert lines["noise"] == zeros(received=3, resolved_in_time=1, open=2, overdue=1, in_time_rate="0.5000")
        assert lines["cleaning"] == zeros(received=1, withdrawn=1)
        assert lines["parking"] == zeros(received=1, open=1, overdue=1, in_time_rate="0.0000")
        assert lines["security"] == zeros()
        assert got["by_severity"] == {"low": 0, "normal": 4, "high": 2, "urgent": 1}

    async def test_default_month_is_this_local_month(self, client, session):
        w = await world(session)
        await register(client, w)
        got = (await client.get(f"{API}/estates/{w.estate.id}/complaint-stats", headers=w.desk.headers)).json()
        assert got["month"] == utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
        assert got["total"] == zeros(received=1, open=1)
        empty = (
            await client.get(f"{API}/estates/{w.estate.id}/complaint-stats", params={"month": "2025-02"}, headers=w.desk.headers)
        ).json()
        assert (empty["end"], empty["total"]) == ("2025-02-28", zeros())
