"""purge_expired deletes only tokens (and stream tickets) that expired or were revoked over a day ago."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain.auth import secrets
from app.domain.auth.model import AuthToken
from app.domain.base import utcnow
from app.domain.events.tickets import StreamTicket
from app.domain.ratelimit.model import RateLimitHit
from app.jobs import purge
from app.jobs.registry import JOBS
from app.jobs.runner import run_job
from tests.factories import make_estate, make_staff


async def test_purge_deletes_only_long_expired_or_revoked_tokens(app, session):
    estate = await make_estate(session)
    staff = await make_staff(session, estates=[estate])
    now = utcnow()
    tokens = {
        "expired_2d": dict(expires_at=now - timedelta(days=2)),
        "revoked_2d": dict(expires_at=now + timedelta(hours=5), revoked_at=now - timedelta(days=2)),
        "expired_1h": dict(expires_at=now - timedelta(hours=1)),
        "revoked_1h": dict(expires_at=now + timedelta(hours=5), revoked_at=now - timedelta(hours=1)),
        "valid": dict(expires_at=now + timedelta(hours=5)),
    }
    for label, when in tokens.items():
        session.add(AuthToken(user_id=staff.id, token_hash=secrets.token_hash(label), **when))
    # Rate-limit windows: one ended two hours ago, one is current.
    session.add(RateLimitHit(bucket="login-user:old", window_start=now - timedelta(hours=2), hits=3))
    session.add(RateLimitHit(bucket="login-user:now", window_start=now, hits=1))
    # Stream tickets: one past its minute two days ago, one past it an hour ago.
    for label, ago in (("ticket_2d", timedelta(days=2)), ("ticket_1h", timedelta(hours=1))):
        session.add(StreamTicket(ticket_hash=secrets.token_hash(label), credential_hash="x", expires_at=now - ago))
    await session.commit()

    [result] = await run_job(app.state.sessionmaker, "purge_expired")

    assert result.status == "succeeded", result.error
    assert result.estate_id is None and result.summary == {"deleted": {"auth_tokens": 2, "idempotency_records": 0,
                                                                                "rate_limit_hits": 1, "stream_tickets": 1}}
    async with app.state.sessionmaker() as s:
        left = set((await s.execute(select(AuthToken.token_hash))).scalars())
        assert set((await s.execute(select(RateLimitHit.bucket))).scalars()) == {"login-user:now"}
        assert list((await s.execute(select(StreamTicket.ticket_hash))).scalars()) == [secrets.token_hash("ticket_1h")]
    kept = {secrets.token_hash(k) for k in ("expired_1h", "revoked_1h", "valid")}
    assert kept <= left and not ({secrets.token_hash("expired_2d"), secrets.token_hash("revoked_2d")} & left)
    # The factory's own token still signs in.
    assert secrets.token_hash(staff.token) in left


async def test_other_areas_hook_their_purges_in(app, session, monkeypatch):
    seen = []

    async def purge_idempotency(s, *, now):
        seen.append(now)
        return 7

    monkeypatch.setitem(purge.PURGERS, "idempotency_records", purge_idempotency)
    [result] = await run_job(app.state.sessionmaker, "purge_expired", period="2026-11-28T17")
    assert result.summary == {"deleted": {"auth_tokens": 0, "idempotency_records": 7, "rate_limit_hits": 0,
                                          "stream_tickets": 0}} and len(seen) == 1


def test_purge_is_company_wide_and_hourly():
    spec = JOBS["purge_expired"]
    assert not spec.per_estate and spec.period_kind == "hour"
