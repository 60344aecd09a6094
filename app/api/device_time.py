"""`X-Device-Time`: when a technician's queued action happened on his phone.

A header rather than a body field, so the one name works alike on a bodiless start, a
multipart voucher and a JSON note. RFC 3339 with its offset (2026-12-08T09:30:00+08:00);
left out, the action happened when it arrives. It is part of what makes a retry the same
request: a retry sends it again unchanged, with its Idempotency-Key.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Header

from app.domain.repairs.orders.field import CLOCK_SKEW, DEVICE_TIME_FIELD, DeviceTimeBeforeOrder, DeviceTimeInFuture
from app.domain.types import Instant

DeviceTime = Annotated[Instant | None, Header(
    alias=DEVICE_TIME_FIELD,
    description="When this happened on the device, with its offset (2026-12-08T09:30:00+08:00), for an action queued "
                "offline and sent later. Recorded as the device's time beside the server's own. Refused (422) when more "
                f"than {int(CLOCK_SKEW.total_seconds() // 60)} minutes in the future or before the order was created. "
                "Send it unchanged on a retry, with the same Idempotency-Key.",
)]
DEVICE_TIME_ERRORS = (DeviceTimeInFuture, DeviceTimeBeforeOrder)
