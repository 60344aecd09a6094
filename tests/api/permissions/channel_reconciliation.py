"""Reconciliation of channel money (issue 18): finance's work, who may do what."""
from __future__ import annotations

from tests.api.permission_table import R, only

# Where the channel money went is answered for by finance (and the administrator): importing the
# statement, resolving a discrepancy and reading the reconciliation are theirs, not the desk's.
FINANCE = only(R.finance, R.admin)

EXPECTED: dict[str, frozenset[str]] = {
    "POST /api/v1/estates/{estate_id}/channel-statements/wechat/download": FINANCE,
    "POST /api/v1/estates/{estate_id}/channel-statements/wechat/upload": FINANCE,
    "GET /api/v1/estates/{estate_id}/reconciliation-items": FINANCE,
    "GET /api/v1/reconciliation-items/{item_id}": FINANCE,
    "POST /api/v1/reconciliation-items/{item_id}/resolve": FINANCE,
    "GET /api/v1/estates/{estate_id}/channel-reconciliation/wechat/daily": FINANCE,
    "GET /api/v1/estates/{estate_id}/channel-reconciliation/wechat/monthly": FINANCE,
}
