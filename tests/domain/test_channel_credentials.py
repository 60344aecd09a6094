"""Sealing an estate's channel secrets: they open only with the same app secret, estate and channel."""
from __future__ import annotations

import uuid

import pytest

from app.domain.fees.channels.credentials import SEALED_PREFIX, CredentialsUnreadable, seal, unseal
from app.domain.fees.channels.model import Channel

SECRET = "a-long-random-app-secret-for-this-test-7d2a"
VALUES = {"apiv3_key": "0123456789abcdef0123456789abcdef", "merchant_private_key": "-----BEGIN PRIVATE KEY-----..."}


def test_it_opens_with_the_same_secret_estate_and_channel():
    estate = uuid.uuid4()
    sealed = seal(SECRET, estate_id=estate, channel=Channel.wechat, values=VALUES)
    assert sealed.startswith(SEALED_PREFIX) and VALUES["apiv3_key"] not in sealed
    assert unseal(SECRET, estate_id=estate, channel=Channel.wechat, sealed=sealed) == VALUES


def test_each_seal_is_new():
    estate = uuid.uuid4()
    assert seal(SECRET, estate_id=estate, channel=Channel.wechat, values=VALUES) != seal(
        SECRET, estate_id=estate, channel=Channel.wechat, values=VALUES)


@pytest.mark.parametrize("change", ["secret", "estate", "tampered"])
def test_another_secret_estate_or_a_changed_byte_does_not_open(change):
    estate = uuid.uuid4()
    sealed = seal(SECRET, estate_id=estate, channel=Channel.wechat, values=VALUES)
    if change == "tampered":
        sealed = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(CredentialsUnreadable):
        unseal(SECRET + "x" if change == "secret" else SECRET, estate_id=uuid.uuid4() if change == "estate" else estate,
               channel=Channel.wechat, sealed=sealed)
