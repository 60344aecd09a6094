"""The owner's code, without a database: random digits, a hash bound to its order, the verbs."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.errors import IllegalTransition
from app.domain.repairs.orders.owner_code_model import (
    OwnerCode,
    OwnerCodeAlreadyUsed,
    OwnerCodeExpired,
    OwnerCodeLocked,
    OwnerCodeStatus,
)
from app.domain.repairs.orders.owner_codes import code_matches, hash_code, new_code

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def row(**kw) -> OwnerCode:
    return OwnerCode(estate_id=uuid.uuid4(), work_order_id=uuid.uuid4(), code_hash="x", issued_at=NOW,
                     expires_at=NOW + timedelta(hours=72), **kw)


class TestTheCode:
    def test_random_six_digits_zero_padded(self):
        codes = [new_code() for _ in range(2000)]
        assert all(len(c) == 6 and c.isdigit() for c in codes)
        assert len(set(codes)) > 1990 and any(c.startswith("0") for c in codes)

    def test_the_hash_is_argon2_salted_and_bound_to_its_order(self):
        order, other = uuid.uuid4(), uuid.uuid4()
        first, second = hash_code(order, "123456", "k"), hash_code(order, "123456", "k")
        assert first.startswith("$argon2id$") and first != second  # a salt of its own each time
        assert code_matches(first, order, "123456", "k") and code_matches(second, order, "123456", "k")
        assert not code_matches(first, order, "123457", "k")
        assert not code_matches(first, other, "123456", "k")  # another order's row
        assert not code_matches("not a hash", order, "123456", "k")


class TestTheVerbs:
    def test_attempts_lock_at_the_limit(self):
        code = row()
        assert [code.attempt_failed(now=NOW, max_attempts=3) for _ in range(3)] == [False, False, True]
        assert (code.status, code.locked_at, code.attempts_left(3)) == (OwnerCodeStatus.locked, NOW, 0)
        with pytest.raises(OwnerCodeLocked):
            code.check_usable(now=NOW)
        with pytest.raises(IllegalTransition):
            code.attempt_failed(now=NOW, max_attempts=3)

    def test_only_an_unlocking_issue_opens_a_locked_code(self):
        code = row(status=OwnerCodeStatus.locked, failed_attempts=5, locked_at=NOW)
        with pytest.raises(OwnerCodeLocked):
            code.issue(code_hash="y", now=NOW, expires_at=NOW + timedelta(hours=1), by=None, unlock=False)
        assert code.code_hash == "x"
        code.issue(code_hash="y", now=NOW, expires_at=NOW + timedelta(hours=1), by=None, unlock=True)
        assert (code.status, code.failed_attempts, code.locked_at, code.code_hash) == (OwnerCodeStatus.active, 0, None, "y")

    def test_reissue_keeps_the_count_a_new_round_starts_afresh(self):
        code = row(failed_attempts=2)
        code.issue(code_hash="y", now=NOW, expires_at=NOW + timedelta(hours=1), by=None, unlock=False)
        assert code.failed_attempts == 2
        code.consume(now=NOW)
        with pytest.raises(OwnerCodeAlreadyUsed):
            code.check_usable(now=NOW)
        code.issue(code_hash="z", now=NOW, expires_at=NOW + timedelta(hours=1), by=None, unlock=False)
        assert (code.status, code.failed_attempts, code.consumed_at) == (OwnerCodeStatus.active, 0, None)

    def test_expired(self):
        code = row()
        code.check_usable(now=NOW + timedelta(hours=71))
        with pytest.raises(OwnerCodeExpired):
            code.check_usable(now=NOW + timedelta(hours=72))
        assert code.shown_status(now=NOW + timedelta(hours=72)) == "expired"
