"""Webhook signatures and the retry schedule, without a database."""
from __future__ import annotations

from datetime import timedelta

from app.domain.events import signing
from app.domain.events.dispatcher import MAX_DELAY, RETRY_WINDOW, backoff


def test_a_signature_verifies_and_a_changed_body_does_not():
    secret = signing.new_secret()
    header = signing.signature(secret, timestamp=1_764_000_000, body=b'{"a":1}')
    assert header.startswith("t=1764000000,v1=")
    assert signing.verify(secret, header=header, body=b'{"a":1}', now=1_764_000_010)
    assert not signing.verify(secret, header=header, body=b'{"a":2}', now=1_764_000_010)
    assert not signing.verify("whsec_other", header=header, body=b'{"a":1}', now=1_764_000_010)


def test_an_old_signature_is_a_replay():
    secret = signing.new_secret()
    header = signing.signature(secret, timestamp=1_764_000_000, body=b"x")
    assert not signing.verify(secret, header=header, body=b"x", now=1_764_000_000 + 301)


def test_garbage_headers_do_not_verify():
    for header in ("", "t=abc,v1=00", "v1=00", "t=1", "nonsense"):
        assert not signing.verify("s", header=header, body=b"x", now=1)


def test_backoff_doubles_up_to_an_hour_and_retries_last_a_day():
    assert [backoff(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert backoff(20) == MAX_DELAY
    total, n = timedelta(0), 0
    while total + backoff(n + 1) <= RETRY_WINDOW:
        n += 1
        total += backoff(n)
    assert total >= timedelta(hours=24) and n >= 25
