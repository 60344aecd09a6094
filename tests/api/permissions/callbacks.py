"""Callbacks (回訪, §7.3.9) and the callback rate (§6.4): who may do what."""
from __future__ import annotations

from tests.api.permission_table import API_KEY, STAFF, R, only

# Everyone who works repairs reads the worklist; finance and the agency desk have no part in it.
CALLBACKS_READ = STAFF - only(R.agency, R.finance)
# The desk rings owners back; the supervisor and the CS director may too.
CALLBACKS_WRITE = only(R.receptionist, R.supervisor, R.cs_director, R.admin)
# An escalated callback is the CS director's to resolve (§7.3.9).
CALLBACKS_RESOLVE = only(R.cs_director, R.admin)
# The rate is an office report: the office staff and integrations with reports:read.
REPORTS = (STAFF - only(R.technician, R.agency)) | {API_KEY}

EXPECTED: dict[str, frozenset[str]] = {
    "GET /api/v1/estates/{estate_id}/callbacks": CALLBACKS_READ,
    "GET /api/v1/callbacks/{callback_id}": CALLBACKS_READ,
    "POST /api/v1/callbacks/{callback_id}/attempts": CALLBACKS_WRITE,
    "POST /api/v1/callbacks/{callback_id}/outcome": CALLBACKS_WRITE,
    "POST /api/v1/callbacks/{callback_id}/resolution": CALLBACKS_RESOLVE,
    "GET /api/v1/estates/{estate_id}/callback-rate": REPORTS,
    "GET /api/v1/estates/{estate_id}/callback-rate/weeks": REPORTS,
}
