"""The technician's sync cursor: where the last sync stood, signed, opaque to the app.

What changed is read from the rows themselves: every row version carries `xmin`, the id of the
transaction that wrote it. A sync first takes PostgreSQL's snapshot and keeps its `xmin`, the
oldest transaction still running then: everything older was committed (or aborted) before
the sync read a row, so the sync saw it; everything written by that transaction or a later
one may not have been seen, and the next sync sends it (again). Commit order does not matter,
so a change committed while a sync was being read is sent by the next one, never skipped;
the price is that a long transaction makes a few rows come twice. Not pg_visible_in_snapshot:
it answers wrongly for rows written in a savepoint (a subtransaction's id), which the
booking and the registry's unique checks use.

What left the technician's view has no row to read (an order given to another, an owner no
longer on any of his orders), so the cursor also carries the ids the app was given: the
next sync's tombstones are those no longer in view. A cursor is bound to its technician and
signed with the server's key, so it cannot be forged or swapped.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass

from app.domain.errors import Invalid

VERSION = 1
MAC_BYTES = 16
_HEAD = struct.Struct(">BB16sQ")
_COUNT = struct.Struct(">H")
_XID = struct.Struct(">Q")
PAGING, SINCE = 1, 2
MAX_IDS = 65535


class BadSyncCursor(Invalid):
    title = "The sync cursor is not one this server gave you; sync again without `since`"
    title_zh = "同步游标无效（并非本服务器为您签发）；请不带 since 重新同步"


@dataclass(frozen=True)
class Cursor:
    user_id: uuid.UUID
    cutoff: int  # the xmin (xid8) of the snapshot the sync was read under
    orders: frozenset[uuid.UUID] = frozenset()
    units: frozenset[uuid.UUID] = frozenset()
    owners: frozenset[uuid.UUID] = frozenset()
    # Set while a sync's stock items come in pages: the last item sent, and the cutoff the pages
    # read changes since (None: a full sync's pages, every active item).
    stock_after: uuid.UUID | None = None
    stock_since: int | None = None


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"technician-sync:" + payload, hashlib.sha256).digest()[:MAC_BYTES]


def _ids(values: frozenset[uuid.UUID]) -> bytes:
    ordered = sorted(values)
    if len(ordered) > MAX_IDS:
        raise ValueError("too many ids for one cursor")
    return _COUNT.pack(len(ordered)) + b"".join(u.bytes for u in ordered)


def encode(cursor: Cursor, *, key: bytes) -> str:
    paging, since = cursor.stock_after is not None, cursor.stock_since is not None
    payload = _HEAD.pack(VERSION, (PAGING if paging else 0) | (SINCE if since else 0), cursor.user_id.bytes, cursor.cutoff)
    if cursor.stock_after is not None:
        payload += cursor.stock_after.bytes
    if cursor.stock_since is not None:
        payload += _XID.pack(cursor.stock_since)
    payload += _ids(cursor.orders) + _ids(cursor.units) + _ids(cursor.owners)
    return base64.urlsafe_b64encode(payload + _mac(key, payload)).rstrip(b"=").decode()


def _read_ids(data: bytes, at: int) -> tuple[frozenset[uuid.UUID], int]:
    (n,) = _COUNT.unpack_from(data, at)
    at += _COUNT.size
    end = at + 16 * n
    if end > len(data):
        raise ValueError("truncated")
    return frozenset(uuid.UUID(bytes=data[i:i + 16]) for i in range(at, end, 16)), end


def decode(text: str, *, key: bytes, user_id: uuid.UUID) -> Cursor:
    """The cursor, or BadSyncCursor naming `since`: not ours, tampered with, or another user's."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, _mac(key, payload)):
            raise ValueError("signature")
        version, flags, user, cutoff = _HEAD.unpack_from(payload, 0)
        at = _HEAD.size
        stock_after = stock_since = None
        if flags & PAGING:
            stock_after, at = uuid.UUID(bytes=payload[at:at + 16]), at + 16
        if flags & SINCE:
            (stock_since,) = _XID.unpack_from(payload, at)
            at += _XID.size
        orders, at = _read_ids(payload, at)
        units, at = _read_ids(payload, at)
        owners, at = _read_ids(payload, at)
        if version != VERSION or at != len(payload) or flags & ~(PAGING | SINCE):
            raise ValueError("layout")
    except (ValueError, binascii.Error, struct.error) as exc:
        raise BadSyncCursor(field="since") from exc
    if uuid.UUID(bytes=user) != user_id:
        raise BadSyncCursor("the cursor belongs to another user's sync", field="since")
    return Cursor(user_id=user_id, cutoff=cutoff, orders=orders, units=units, owners=owners,
                  stock_after=stock_after, stock_since=stock_since)
