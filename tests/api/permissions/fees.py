"""Who may configure fees, bill a month, read meters and read charges (DOMAIN.md: fees and cash, §5.2)."""
from __future__ import annotations

from tests.api.permission_table import R, only

# The desk explains bills (§7.3.13); managers chase their jurisdiction's arrears; finance and
# the supervisor and CS director answer for the money. Technicians, the records clerk and the
# agency desk have no business with fees.
READ = only(R.receptionist, R.night_duty, R.manager, R.supervisor, R.cs_director, R.finance, R.admin)
# Prices, rules, subscriptions and deposits are finance's (and the administrator's) to set.
CONFIGURE = only(R.finance, R.admin)
# Billing a month is finance's.
BILL = only(R.finance, R.admin)
# Meters are read and entered at the desk or by finance.
METERS = only(R.receptionist, R.finance, R.admin)

EXPECTED = {
    "GET /api/v1/estates/{estate_id}/fee-items": READ,
    "POST /api/v1/estates/{estate_id}/fee-items": CONFIGURE,
    "GET /api/v1/fee-items/{item_id}": READ,
    "PATCH /api/v1/fee-items/{item_id}": CONFIGURE,
    "POST /api/v1/fee-items/{item_id}/prices": CONFIGURE,
    # The late-fee rule is a price like any other: read by those who explain bills, set by finance.
    "GET /api/v1/estates/{estate_id}/late-fee-rules": READ,
    "POST /api/v1/estates/{estate_id}/late-fee-rules": CONFIGURE,
    "GET /api/v1/units/{unit_id}/fee-items": READ,
    "PUT /api/v1/units/{unit_id}/fee-items/{item_id}": CONFIGURE,
    "DELETE /api/v1/units/{unit_id}/fee-items/{item_id}": CONFIGURE,
    "POST /api/v1/estates/{estate_id}/meter-readings": METERS,
    "POST /api/v1/estates/{estate_id}/billing-runs/preview": BILL,
    "POST /api/v1/estates/{estate_id}/billing-runs": BILL,
    "GET /api/v1/estates/{estate_id}/billing-runs": READ,
    "GET /api/v1/units/{unit_id}/charges": READ,
    "GET /api/v1/estates/{estate_id}/charges": READ,
    "POST /api/v1/units/{unit_id}/charges": CONFIGURE,
}
