"""Sign-in throttling: slow a guesser down without locking the real user out or naming accounts.

A hard lock (five failures, then the account refuses even its right password) let anyone lock
anyone out, and answered a locked name (429) unlike an unknown one (401). Instead, failures are
counted in the shared rate-limit table (fixed windows of `window`), in three buckets:

- per username as typed (casefolded): a guesser on one account, from however many addresses;
- per username from one address: the same, at one place (an office behind one NAT address);
- per address, whatever the usernames: a spray over many accounts.

Each attempt is counted as a failure *before* argon2 runs (one atomic upsert, so a hundred
guesses at once cannot all slip under the threshold) and given back when the password is right.
Over a threshold the answer is 429 with Retry-After, without hashing; the username bucket is
kept whether or not the name exists, so an unknown name is throttled exactly like a real one:
same status, body and headers, and the same (absent) argon2 time.

The exception: a *known place*, an address this user signed in from successfully in the last
`known_place_for` (table sign_in_place), is not held back by the username bucket, so the real
user at their desk still gets in while someone elsewhere floods their name. The per-address and
per-username-at-this-address buckets still apply there, so a guesser sharing the office's address
is slowed down too. Someone at a new place waits for the window to pass while the name is under
attack: that is the price, and it is bounded by the window, not by an administrator.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.model import SignInPlace, User
from app.domain.errors import TooManyAttempts
from app.domain.ratelimit import service as ratelimit
from app.domain.ratelimit.service import Limit


class SignInThrottled(TooManyAttempts):
    title = "Too many failed sign-ins; wait before trying again"
    title_zh = "登录失败次数过多，请稍后再试"


@dataclass(frozen=True)
class Policy:
    max_failures: int  # per username, and per username from one address, in a window
    address_max_failures: int  # per address across usernames, in a window
    address_attempts_per_minute: int  # every attempt from one address, right or wrong
    window: timedelta
    known_place_for: timedelta


@dataclass(frozen=True)
class Admission:
    """Let through to the password check: who it may be, and the failure hits to give back."""

    user_id: uuid.UUID | None  # None: no such active user (argon2 still runs, on a dummy hash)
    password_hash: str | None
    address: str
    at: datetime
    failures: tuple[Limit, ...]
    place: Limit


def _limits(name: str, address: str, policy: Policy) -> tuple[Limit, Limit, Limit]:
    return (Limit(f"login-fail-user:{name}", policy.max_failures, policy.window),
            Limit(f"login-fail-place:{name}@{address}", policy.max_failures, policy.window),
            Limit(f"login-fail-ip:{address}", policy.address_max_failures, policy.window))


async def admit(session: AsyncSession, *, username: str, address: str, policy: Policy, now: datetime) -> Admission:
    """Count this attempt as a failure up front; SignInThrottled (or RateLimited) when over."""
    # One round trip whether or not the name exists, so its timing does not tell either.
    known_place = select(SignInPlace.user_id).where(
        SignInPlace.user_id == User.id, SignInPlace.address == address,
        SignInPlace.last_signed_in_at >= now - policy.known_place_for).exists()
    user = (await session.execute(select(User.id, User.password_hash, known_place.label("known")).where(
        User.username == username, User.is_active.is_(True)))).first()
    known = user is not None and user.known
    by_name, by_place, by_address = _limits(username.strip().casefold(), address, policy)
    attempts = Limit(f"login-ip:{address}", policy.address_attempts_per_minute)
    counts = await ratelimit.count(session, [attempts, by_name, by_place, by_address], now=now)
    over = [(limit, start) for limit, hits, start in counts if hits > limit.per_window]
    starts = {limit.bucket: start for limit, start in over}
    if attempts.bucket in starts:  # the address's flood of attempts, right or wrong
        raise ratelimit.refusal(attempts, starts[attempts.bucket], now=now)
    throttling = [(limit, start) for limit, start in over if not (known and limit.bucket == by_name.bucket)]
    if throttling:
        retry = max(ratelimit.seconds_left(limit, start, now) for limit, start in throttling)
        raise SignInThrottled(f"retry in {retry} s", retry_after_seconds=retry)
    return Admission(user_id=user.id if user else None, password_hash=user.password_hash if user else None,
                     address=address, at=now, failures=(by_name, by_address), place=by_place)


async def signed_in(session: AsyncSession, *, admission: Admission, policy: Policy) -> None:
    """The password was right: give the failure hits back, and remember this place."""
    assert admission.user_id is not None
    for limit in admission.failures:
        await ratelimit.refund(session, limit, now=admission.at)
    # The real user proved themselves here: their own typos at this place start again from zero.
    await ratelimit.clear(session, admission.place.bucket)
    table = SignInPlace.__table__
    stmt = insert(table).values(user_id=admission.user_id, address=admission.address, last_signed_in_at=admission.at)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.user_id, table.c.address], set_={"last_signed_in_at": stmt.excluded.last_signed_in_at}))
    # Forgotten places of this user go here rather than in a job: a handful of rows per user.
    await session.execute(delete(SignInPlace).where(
        SignInPlace.user_id == admission.user_id, SignInPlace.last_signed_in_at < admission.at - policy.known_place_for))
