"""Password hashing (argon2) and opaque tokens (only their SHA-256 is stored)."""
from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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
