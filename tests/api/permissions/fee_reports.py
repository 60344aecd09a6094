"""Who reads the fee reports (§5.5, §5.8): the Saturday register goes to the supervisor, the
month-end report to finance; the CS director and admin answer for the office too. The desk
produces the figures but does not read the summaries (its own day is the cash hand-over), and
an integration's read-only key with fee_reports:read may pull them (finance's systems)."""
from __future__ import annotations

from tests.api.permission_table import R, only

FEE_REPORTS_READ = only(R.supervisor, R.cs_director, R.finance, R.admin, api_key=True)

EXPECTED = {
    "GET /api/v1/estates/{estate_id}/fee-reports/saturday-register": FEE_REPORTS_READ,
    "GET /api/v1/estates/{estate_id}/fee-reports/month-end": FEE_REPORTS_READ,
    "GET /api/v1/estates/{estate_id}/fee-reports": FEE_REPORTS_READ,
    "GET /api/v1/fee-reports/{report_id}": FEE_REPORTS_READ,
}
