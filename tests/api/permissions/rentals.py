"""Who keeps the owners' rental entrustments (委托租賃, §7.3.14)."""
from __future__ import annotations

from tests.api.permission_table import R, only

# The agency desk works them; the front desk takes them in from owners; the supervisor
# corrects them and the CS director reads them. Technicians, managers, night duty, finance
# and the records clerk have no business with them.
READ = only(R.agency, R.receptionist, R.supervisor, R.cs_director, R.admin)
WRITE = only(R.agency, R.receptionist, R.supervisor, R.admin)

EXPECTED = {
    "GET /api/v1/estates/{estate_id}/rental-entrustments": READ,
    "POST /api/v1/estates/{estate_id}/rental-entrustments": WRITE,
    "GET /api/v1/rental-entrustments/{entrustment_id}": READ,
    "PATCH /api/v1/rental-entrustments/{entrustment_id}": WRITE,
    "POST /api/v1/rental-entrustments/{entrustment_id}/reserve": WRITE,
    "POST /api/v1/rental-entrustments/{entrustment_id}/release": WRITE,
    "POST /api/v1/rental-entrustments/{entrustment_id}/let": WRITE,
    "POST /api/v1/rental-entrustments/{entrustment_id}/withdraw": WRITE,
    "POST /api/v1/rental-entrustments/{entrustment_id}/photos": WRITE,
    "GET /api/v1/rental-entrustments/{entrustment_id}/photos/{photo_id}": READ,
}
