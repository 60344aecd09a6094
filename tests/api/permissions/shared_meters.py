"""Who may set up shared meters (公摊), record their readings, approve, discard and bill the splits."""
from __future__ import annotations

from tests.api.permission_table import R, only
from tests.api.permissions.fees import BILL, CONFIGURE, READ

# The split bills a whole building: checked by finance or the supervisor (never by whoever
# recorded it: the service refuses that), not by the desk nor the administrator.
APPROVE = only(R.finance, R.supervisor)

EXPECTED = {
    "POST /api/v1/estates/{estate_id}/shared-meters": CONFIGURE,
    "GET /api/v1/estates/{estate_id}/shared-meters": READ,
    "POST /api/v1/shared-meters/{meter_id}/readings": CONFIGURE,
    "GET /api/v1/shared-meter-splits/{split_id}": READ,
    "POST /api/v1/shared-meter-splits/{split_id}/approve": APPROVE,
    "POST /api/v1/shared-meter-splits/{split_id}/discard": APPROVE,
    "POST /api/v1/shared-meter-splits/{split_id}/bill": BILL,
}
