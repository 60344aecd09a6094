"""Rows for the office's repair paperwork (§5.6, §7.3.1, §7.3.10).

The morning list, the daily log, the batches and the manifests are office paperwork: every
office role reads them (not technicians, who see their own orders, nor the agency desk),
and an integration's read-only key may pull them. Approving last week's orders is the
supervisor's (§7.3.10), as is building a batch or a month's manifests ahead of the clock.
Vouchers are received by managers (their jurisdiction) and the records clerk (public areas);
a supervisor may acknowledge on their behalf.
"""
from __future__ import annotations

from tests.api.permission_table import API_KEY, STAFF, R, only

OFFICE_READ = (STAFF - {R.technician.value, R.agency.value}) | {API_KEY}
APPROVE = only(R.supervisor, R.admin)
RECEIVE = only(R.manager, R.records_clerk, R.supervisor, R.admin)

EXPECTED: dict[str, frozenset[str]] = {
    "GET /api/v1/estates/{estate_id}/repairs/morning": OFFICE_READ,
    "GET /api/v1/estates/{estate_id}/repairs/daily-log": OFFICE_READ,
    "GET /api/v1/estates/{estate_id}/approval-batches": OFFICE_READ,
    "POST /api/v1/estates/{estate_id}/approval-batches": APPROVE,
    "GET /api/v1/approval-batches/{batch_id}": OFFICE_READ,
    "POST /api/v1/approval-batches/{batch_id}/lines/{line_id}/approve": APPROVE,
    "POST /api/v1/approval-batches/{batch_id}/lines/{line_id}/return": APPROVE,
    "GET /api/v1/estates/{estate_id}/voucher-manifests": OFFICE_READ,
    "POST /api/v1/estates/{estate_id}/voucher-manifests": APPROVE,
    "GET /api/v1/voucher-manifests/{manifest_id}": OFFICE_READ,
    "POST /api/v1/voucher-manifests/{manifest_id}/acknowledge": RECEIVE,
}
