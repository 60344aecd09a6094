"""Owners' complaints (業主投訴記錄本 / 處置單): who may do what."""
from __future__ import annotations

from tests.api.permission_table import R, only

# Whoever talks to owners reads and takes complaints; technicians, finance, the records clerk
# and the agency desk do not handle them.
COMPLAINTS_READ = only(R.receptionist, R.night_duty, R.manager, R.supervisor, R.cs_director, R.admin)
COMPLAINTS_WRITE = COMPLAINTS_READ
# Handlers are assigned, complaints resolved or withdrawn and deadlines set by the supervisor
# and the CS director, who answers for them.
COMPLAINTS_MANAGE = only(R.supervisor, R.cs_director, R.admin)

EXPECTED: dict[str, frozenset[str]] = {
    "POST /api/v1/estates/{estate_id}/complaints": COMPLAINTS_WRITE,
    "GET /api/v1/estates/{estate_id}/complaints": COMPLAINTS_READ,
    "GET /api/v1/complaints/{complaint_id}": COMPLAINTS_READ,
    "POST /api/v1/complaints/{complaint_id}/assign": COMPLAINTS_MANAGE,
    "POST /api/v1/complaints/{complaint_id}/steps": COMPLAINTS_WRITE,
    "POST /api/v1/complaints/{complaint_id}/resolve": COMPLAINTS_MANAGE,
    "POST /api/v1/complaints/{complaint_id}/feedback": COMPLAINTS_WRITE,
    "POST /api/v1/complaints/{complaint_id}/escalate": COMPLAINTS_WRITE,
    "POST /api/v1/complaints/{complaint_id}/withdraw": COMPLAINTS_MANAGE,
    "GET /api/v1/estates/{estate_id}/complaint-deadlines": COMPLAINTS_READ,
    "PUT /api/v1/estates/{estate_id}/complaint-deadlines": COMPLAINTS_MANAGE,
    "GET /api/v1/estates/{estate_id}/complaint-stats": COMPLAINTS_READ,
}
