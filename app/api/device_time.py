"""`X-Device-Time`: when a technician's queued action happened on his phone.

A header rather than a body field, so the one name works alike on a bodiless start, a
multipart voucher and a JSON note. RFC 3339 with its offset (2026-12-08T09:30:00+08:00);
left out, the action happened when it arrives. It is part of what makes a retry the same
request: a retry sends it again unchanged, with its Idempotency-Key.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from app.domain.repairs.orders.field import CLOCK_SKEW, DEVICE_TIME_FIELD, DeviceTimeBeforeOrder, DeviceTimeInFuture
from app.domain.types import Instant

_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)

# Declared as a string: generated clients take no date-time header (openapi-python-client refuses
# one), and every client can send the string. Read here as the instant it must be.
RawDeviceTime = Annotated[str | None, Header(
    alias=DEVICE_TIME_FIELD, max_length=40,
    description="When this happened on the device, with its offset (2026-12-08T09:30:00+08:00), for an action queued "
                "offline and sent later. Recorded as the device's time beside the server's own. Refused (422) when more "
                f"than {int(CLOCK_SKEW.total_seconds() // 60)} minutes in the future or before the order was created. "
                "Send it unchanged on a retry, with the same Idempotency-Key.",
    examples=["2026-12-08T09:30:00+08:00"],
)]


def _device_time(raw: RawDeviceTime = None) -> datetime | None:
    if raw is None:
        return None
    try:
        return _INSTANT.validate_python(raw)
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("header", DEVICE_TIME_FIELD)} for err in e.errors()]) from None


DeviceTime = Annotated[datetime | None, Depends(_device_time)]
DEVICE_TIME_ERRORS = (DeviceTimeInFuture, DeviceTimeBeforeOrder)
