"""Who keeps the company's holiday calendar (§5.1): the administrator, who enters the State Council's notice."""
from __future__ import annotations

from tests.api.permission_table import R, only

# One calendar for the whole company: not the desk's, nor a single estate's supervisor's to change.
# Everyone reads the days' status through the duty roster; the table itself is the admin's.
MANAGE = only(R.admin)

EXPECTED = {
    "GET /api/v1/holiday-calendar/{year}": MANAGE,
    "PUT /api/v1/holiday-calendar/{year}": MANAGE,
    "POST /api/v1/holiday-calendar/{year}/upload": MANAGE,
    "POST /api/v1/holiday-calendar/days": MANAGE,
    "PATCH /api/v1/holiday-calendar/days/{day}": MANAGE,
    "DELETE /api/v1/holiday-calendar/days/{day}": MANAGE,
}
