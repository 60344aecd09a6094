"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", as Stripe-style receivers expect.

The header reads `t=1764000000,v1=<hex>`. The timestamp inside the signed text lets a receiver
refuse replays older than its tolerance.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "PropDesk-Signature"
EVENT_ID_HEADER = "PropDesk-Event-Id"
EVENT_TYPE_HEADER = "PropDesk-Event-Type"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, *, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, *, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does; used by our tests as any integration would."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp=timestamp, body=body), f"t={timestamp},v1={parts.get('v1', '')}")
