"""The sync cursor round-trips, is bound to its technician and its key, and refuses any edit;
device times are believed within reason."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.repairs.model import WorkOrder
from app.domain.repairs.orders.field import DeviceTimeBeforeOrder, DeviceTimeInFuture, check_device_time
from app.domain.repairs.sync.cursor import BadSyncCursor, Cursor, decode, encode

KEY = b"k" * 32
ME = uuid.uuid4()


def cursor(**kw) -> Cursor:
    return Cursor(user_id=ME, cutoff=2**33 + 17, orders=frozenset({uuid.uuid4(), uuid.uuid4()}),
                  units=frozenset({uuid.uuid4()}), owners=frozenset(), **kw)


@pytest.mark.parametrize("extra", [{}, {"stock_after": uuid.uuid4()}, {"stock_after": uuid.uuid4(), "stock_since": 5}])
def test_round_trip(extra) -> None:
    c = cursor(**extra)
    assert decode(encode(c, key=KEY), key=KEY, user_id=ME) == c


def test_another_key_or_user_or_any_changed_byte_is_refused() -> None:
    text = encode(cursor(), key=KEY)
    for bad in (lambda: decode(text, key=b"other", user_id=ME), lambda: decode(text, key=KEY, user_id=uuid.uuid4()),
                lambda: decode(text[:-1] + ("A" if text[-1] != "A" else "B"), key=KEY, user_id=ME),
                lambda: decode("", key=KEY, user_id=ME), lambda: decode("%%", key=KEY, user_id=ME)):
        with pytest.raises(BadSyncCursor) as exc:
            bad()
        assert exc.value.extra["field"] == "since"


NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


def test_device_times() -> None:
    order = WorkOrder(estate_id=uuid.uuid4(), request_id=uuid.uuid4(), category="plumbing", number="QS-WX-2026-000001",
                      created_at=NOW - timedelta(days=1))
    check_device_time(order, None, now=NOW)
    check_device_time(order, NOW + timedelta(minutes=4), now=NOW)  # a phone a little fast
    check_device_time(order, order.created_at - timedelta(minutes=4), now=NOW)
    with pytest.raises(DeviceTimeInFuture):
        check_device_time(order, NOW + timedelta(hours=2), now=NOW)
    with pytest.raises(DeviceTimeBeforeOrder) as exc:
        check_device_time(order, NOW - timedelta(days=3), now=NOW)
    assert exc.value.extra["field"] == "X-Device-Time"
