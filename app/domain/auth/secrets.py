"""Password hashing (argon2), password strength (zxcvbn), opaque tokens (only their SHA-256 is stored).

argon2 costs a fifth of a second of CPU by design. Run on the event loop, every other request
of the process waits behind it: 55 failed sign-ins at once stalled everyone for seconds. The
request path therefore hashes and verifies with `hash_in_pool` / `verify_in_pool`, on a small
dedicated thread pool (argon2-cffi releases the GIL while it works): a storm of sign-ins queues
for those few threads, and the event loop and the rest of the CPU stay with everyone else. The
plain functions remain for the CLI, the demo and tests, where nothing else waits.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import re
import secrets
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from app.domain.errors import Invalid

_hasher = PasswordHasher()

TOKEN_PREFIX = "pd_"
API_KEY_PREFIX = "pdk_"
DEFAULT_THREADS = 2
HASHING_NICENESS = 10

_pool: ThreadPoolExecutor | None = None
_pool_size = DEFAULT_THREADS


def configure_pool(*, threads: int) -> None:
    """Size the hashing pool (PROPDESK_PASSWORD_HASH_THREADS); the app calls it at start-up."""
    global _pool, _pool_size
    if _pool is not None and threads != _pool_size:
        _pool.shutdown(wait=False)
        _pool = None
    _pool_size = max(1, threads)


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_pool_size, thread_name_prefix="argon2", initializer=_lower_priority)
    return _pool


def _lower_priority() -> None:
    # Linux niceness is per thread, and argon2's lane threads inherit it from this one: under a
    # storm of sign-ins the event loop and PostgreSQL run first, argon2 takes the CPU left over.
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    # Made on first use, not at import: every process (CLI, workers, test subprocesses) imports this.
    return _hasher.hash("not-a-real-password")


def burn_time(password: str) -> None:
    """Verify against a real hash for unknown usernames, so timing does not reveal them."""
    verify_password(_dummy_hash(), password)


async def hash_in_pool(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_executor(), hash_password, password)


async def verify_in_pool(password_hash: str | None, password: str) -> bool:
    """verify_password off the event loop; with no hash (unknown user) it burns the same time."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), _verify_or_burn, password_hash, password)


def _verify_or_burn(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        burn_time(password)
        return False
    return verify_password(password_hash, password)


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A password must resist an offline guesser: zxcvbn's score 3 is "safely unguessable"
# (about 10^8 guesses), which is what an argon2 hash is meant to buy time against.
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
MIN_PASSWORD_SCORE = 3


class PasswordTooWeak(Invalid):
    title = "The password is too easy to guess"
    title_zh = "密码太容易被猜到"


def password_weakness(password: str, *, user_inputs: Sequence[str] = ()) -> str | None:
    """Why the password is too weak (the estimator's own words), or None when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"use at most {MAX_PASSWORD_LENGTH} characters"
    words = [w for w in user_inputs if w]
    words += [part for w in words for part in re.split(r"[._\-\s]+", w) if len(part) >= 3]
    result = zxcvbn(password, user_inputs=words, max_length=MAX_PASSWORD_LENGTH)
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = result["feedback"]
    warning = feedback.get("warning")
    if not warning and any(m.get("dictionary_name") == "user_inputs" for m in result["sequence"]):
        warning = "It is built on the account's own name."  # the estimator finds it but does not say so
    reasons = [warning or "This password is easy to guess.", *feedback.get("suggestions", [])]
    return " ".join(r for r in reasons if r)


def check_password(password: str, *, field: str, user_inputs: Sequence[str] = ()) -> None:
    """Refuse a weak password, naming the field it came in, with the estimator's reason."""
    reason = password_weakness(password, user_inputs=user_inputs)
    if reason is not None:
        raise PasswordTooWeak(f"{field}: {reason}", field=field, reason=reason)
