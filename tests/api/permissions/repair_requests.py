"""Service requests, repair categories and phone scripts (§7.3.3-7.3.7, §7.3.11)."""
from __future__ import annotations

from tests.api.permission_table import STAFF, R, only

# Everyone who handles repairs reads the register and the scripts; finance and the agency
# desk have no business with repairs, and integrations get reports, not the register.
REQUESTS_READ = STAFF - only(R.agency, R.finance)
# Requests are taken by the desk (night duty at night) and relayed from patrols by managers
# and technicians (§7.3.11); the supervisor and admin may stand in.
REQUESTS_WRITE = only(R.receptionist, R.night_duty, R.manager, R.technician, R.supervisor, R.admin)
# The estate's categories and script wording are the supervisor's to set.
CONFIGURE = only(R.supervisor, R.admin)

EXPECTED: dict[str, frozenset[str]] = {
    "POST /api/v1/estates/{estate_id}/service-requests": REQUESTS_WRITE,
    "GET /api/v1/estates/{estate_id}/service-requests": REQUESTS_READ,
    "GET /api/v1/service-requests/{request_id}": REQUESTS_READ,
    "POST /api/v1/service-requests/{request_id}/close": REQUESTS_WRITE,
    "GET /api/v1/estates/{estate_id}/repair-categories": REQUESTS_READ,
    "PUT /api/v1/estates/{estate_id}/repair-categories/{code}": CONFIGURE,
    "GET /api/v1/estates/{estate_id}/phone-scripts": REQUESTS_READ,
    "PUT /api/v1/estates/{estate_id}/phone-scripts/{key}": CONFIGURE,
    "POST /api/v1/estates/{estate_id}/phone-scripts/{key}/render": REQUESTS_READ,
}
