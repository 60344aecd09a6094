"""Who signs in, who reads the attendance book, who keeps the holiday duty roster (§5.1, §7.1, §7.3.16)."""
from __future__ import annotations

from tests.api.permission_table import STAFF, R, only

# Everyone who works shifts signs in and reads their own record; the administrator keeps
# accounts, not office hours. An integration's key is nobody and signs nothing.
SIGN = STAFF - {R.admin.value}
# Everyone's attendance is for those who answer for the staff.
READ_ALL = only(R.supervisor, R.cs_director, R.admin)
# Everyone may see who is on duty on a holiday; the supervisor (and admin) sets it.
ROSTER_READ = STAFF
ROSTER_MANAGE = only(R.supervisor, R.admin)

EXPECTED = {
    "POST /api/v1/estates/{estate_id}/attendance/sign-in": SIGN,
    "POST /api/v1/estates/{estate_id}/attendance/sign-out": SIGN,
    "GET /api/v1/attendance/mine": SIGN,
    "GET /api/v1/estates/{estate_id}/attendance": READ_ALL,
    "GET /api/v1/estates/{estate_id}/attendance/summary": READ_ALL,
    "GET /api/v1/estates/{estate_id}/duty-roster": ROSTER_READ,
    "PUT /api/v1/estates/{estate_id}/duty-roster/{day}": ROSTER_MANAGE,
    "DELETE /api/v1/estates/{estate_id}/duty-roster/{day}/{user_id}": ROSTER_MANAGE,
}
