"""Webhooks are wired up by the administrator, who holds their signing secrets (issue 6)."""
from __future__ import annotations

from tests.api.permission_table import R, only

ADMIN = only(R.admin)

EXPECTED = {
    "POST /api/v1/estates/{estate_id}/webhooks": ADMIN,
    "GET /api/v1/estates/{estate_id}/webhooks": ADMIN,
    "GET /api/v1/webhooks/{webhook_id}": ADMIN,
    "PATCH /api/v1/webhooks/{webhook_id}": ADMIN,
    "POST /api/v1/webhooks/{webhook_id}/rotate-secret": ADMIN,
    "GET /api/v1/webhooks/{webhook_id}/deliveries": ADMIN,
    "POST /api/v1/webhook-deliveries/{delivery_id}/redeliver": ADMIN,
}

# Owner notifications: the desk reads what owners were told; the wording is the supervisor's.
DESK_READ = only(R.receptionist, R.manager, R.night_duty, R.supervisor, R.cs_director, R.finance, R.records_clerk, R.admin)
EXPECTED |= {
    "GET /api/v1/estates/{estate_id}/notification-templates": DESK_READ,
    "PUT /api/v1/estates/{estate_id}/notification-templates/{event_type}": only(R.supervisor, R.admin),
    "GET /api/v1/estates/{estate_id}/owner-notifications": DESK_READ,
}

# The live feed: every member of staff follows their own estates' events.
EXPECTED |= {"GET /api/v1/stream": only(*R), "POST /api/v1/stream/tickets": only(*R)}

# What needs me now: everyone on the staff has a queue; the wall board is any estate member's.
EXPECTED |= {"GET /api/v1/attention": only(*R), "GET /api/v1/estates/{estate_id}/attention": only(*R)}
