"""Password hashing (argon2), password strength (zxcvbn), opaque tokens (only their SHA-256 is stored)."""
from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from app.domain.errors import Invalid

_hasher = PasswordHasher()

TOKEN_PREFIX = "pd_"
API_KEY_PREFIX = "pdk_"


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
