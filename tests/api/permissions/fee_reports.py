"""Who reads the fee reports (§5.5, §5.8): the receptionist compiles the Saturday register for
the supervisor and the month-end report for finance, so all three read them; the CS director
and admin answer for the office too. An integration's read-only key with fee_reports:read may
pull them (finance's systems)."""
from __future__ import annotations

from tests.api.permission_table import R, only

FEE_REPORTS_READ = only(R.receptionist, R.supervisor, R.cs_director, R.finance, R.admin, api_key=True)

EXPECTED = {
    "GET /api/v1/estates/{estate_id}/fee-reports/saturday-register": FEE_REPORTS_READ,
    "GET /api/v1/estates/{estate_id}/fee-reports/month-end": FEE_REPORTS_READ,
    "GET /api/v1/estates/{estate_id}/fee-reports": FEE_REPORTS_READ,
    "GET /api/v1/fee-reports/{report_id}": FEE_REPORTS_READ,
}
