"""Who may set a unit's billing period and correct a charge (issue 17: proration and corrections)."""
from __future__ import annotations

from tests.api.permission_table import R, only
from tests.api.permissions.fees import CONFIGURE, READ

# A wrong charge is cancelled and rebilled by those who answer for the ledger.
CORRECT = only(R.finance, R.supervisor)

EXPECTED = {
    "GET /api/v1/units/{unit_id}/billing-period": READ,
    "PUT /api/v1/units/{unit_id}/billing-period": CONFIGURE,
    "POST /api/v1/charges/{charge_id}/cancel": CORRECT,
    "POST /api/v1/charges/{charge_id}/rebill": CORRECT,
}
