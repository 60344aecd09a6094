"""Who asks to cancel a paid charge and who decides (issue 17): whoever corrects charges asks
(finance, the supervisor), and the other of the two approves or rejects (never the asker: the
service checks it); whoever reads fees reads the requests."""
from __future__ import annotations

from tests.api.permission_table import R, only
from tests.api.permissions.fees import READ
from tests.api.permissions.prorate import CORRECT

APPROVE = only(R.supervisor, R.finance)

EXPECTED = {
    "GET /api/v1/estates/{estate_id}/charge-cancellations": READ,
    "GET /api/v1/charge-cancellations/{cancellation_id}": READ,
    "POST /api/v1/charge-cancellations/{cancellation_id}/approve": APPROVE,
    "POST /api/v1/charge-cancellations/{cancellation_id}/reject": APPROVE,
    "POST /api/v1/charge-cancellations/{cancellation_id}/withdraw": CORRECT,
}
