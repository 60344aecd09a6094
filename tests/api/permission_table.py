"""Who at the front desk may call what: the expected-access table of the permission matrix.

Written by hand from the operating procedure (DOMAIN.md), not derived from
app.domain.auth.roles.GRANTS, so that the matrix test checks one against the other.
Every operation under /api/v1 must have a row; tests/api/test_permission_matrix.py fails
for an operation missing here, so a new route cannot skip the question.

Principals: every Role by value, plus ANON (no credential) and API_KEY (an integration's
key with the read-only scopes registry:read, reports:read and fee_reports:read).
"""
from __future__ import annotations

import re

from app.domain.auth.roles import Role

ANON = "anonymous"
API_KEY = "api_key"

R = Role
STAFF = frozenset(r.value for r in Role)
EVERYONE = STAFF | {ANON, API_KEY}


def only(*roles: Role, api_key: bool = False) -> frozenset[str]:
    return frozenset(r.value for r in roles) | ({API_KEY} if api_key else set())


# Everyone on the staff talks to owners or goes to their units: the desk, technicians
# (addresses on their orders), managers (their jurisdiction), night duty (calls at night),
# supervisor and CS director (escalations), finance (fees are per unit and m²), the records
# clerk (files vouchers by unit), the agency desk (rental entrustments). Integrations may read.
REGISTRY_READ = STAFF | {API_KEY}
# The roster is kept by the desk; the supervisor and admin correct it.
REGISTRY_WRITE = only(R.receptionist, R.supervisor, R.admin)
# Bulk replacement of the roster from the office's spreadsheet: supervisor and admin only.
ROSTER_IMPORT = only(R.supervisor, R.admin)
# Estates themselves (office name, time zone, hours) are set up by the administrator.
ESTATES_MANAGE = only(R.admin)
# Staff lists: the supervisor and the CS director direct staff; admin manages accounts.
USERS_READ = only(R.supervisor, R.cs_director, R.admin)
USERS_MANAGE = only(R.admin)
# The trail is read by those who answer for it: supervisor, CS director, finance (money), admin.
AUDIT_READ = only(R.supervisor, R.cs_director, R.finance, R.admin)
JOBS_READ = only(R.supervisor, R.admin)
JOBS_RUN = only(R.admin)

EXPECTED: dict[str, frozenset[str]] = {
    # Signing in needs no credential; signing out and "who am I" need a person's token.
    # (An API key is no person: /auth/me refuses it; logout with a key revokes nothing.)
    "POST /api/v1/auth/login": EVERYONE,
    "POST /api/v1/auth/logout": STAFF | {API_KEY},
    "GET /api/v1/auth/me": STAFF,
    # Anyone signed in changes their own password (a key has none: 401).
    "POST /api/v1/auth/password": STAFF,
    # Staff accounts and integration keys.
    "GET /api/v1/users": USERS_READ,
    "POST /api/v1/users": USERS_MANAGE,
    "GET /api/v1/users/{user_id}": USERS_READ,
    "PATCH /api/v1/users/{user_id}": USERS_MANAGE,
    "POST /api/v1/users/{user_id}/reset-password": USERS_MANAGE,
    "GET /api/v1/api-keys": USERS_MANAGE,
    "POST /api/v1/api-keys": USERS_MANAGE,
    "POST /api/v1/api-keys/{key_id}/revoke": USERS_MANAGE,
    # The audit trail (read-only by construction).
    "GET /api/v1/audit": AUDIT_READ,
    # The company's details (printed on receipts) are read by all, changed by the administrator,
    # who also closes an estate the office stops managing.
    "GET /api/v1/company": REGISTRY_READ,
    "PATCH /api/v1/company": ESTATES_MANAGE,
    "POST /api/v1/estates/{estate_id}/close": ESTATES_MANAGE,
}

# Reading a staff account or a key needs one shared estate; managing it needs all of its
# estates, and granting needs the estates granted. An admin of estate A facing an account
# or key that also covers estate B gets this problem, for every verb that changes accounts
# or keys; test_permission_matrix fails for such a verb without a row here.
NARROW_ADMIN_VS_WIDE: dict[str, str] = {
    "POST /api/v1/users": "estate-outside-your-scope",  # an account in A and B
    "PATCH /api/v1/users/{user_id}": "user-outside-your-scope",  # rename, roles, estates, deactivate
    "POST /api/v1/users/{user_id}/reset-password": "user-outside-your-scope",
    "POST /api/v1/api-keys": "estate-outside-your-scope",  # a key for A and B
    "POST /api/v1/api-keys/{key_id}/revoke": "api-key-outside-your-scope",
}
MANAGING = r"^/api/v1/(users|api-keys)(/.*)?$"

# Families of routes being added while this table was written (registry, roster import,
# job clock): an operation without its own row above is judged by the first family whose
# method and path pattern match. Prefer an explicit row; anything matching nothing fails.
JURISDICTIONS_WRITE = only(R.supervisor, R.admin)  # who answers to which manager is not the desk's call
FAMILIES: list[tuple[str, str, frozenset[str]]] = [
    ("GET", r"^/api/v1/jobs(/.*)?$", JOBS_READ),
    ("POST", r"^/api/v1/jobs/\{[a-z_]+\}/run$", JOBS_RUN),
    ("GET|POST", r"^/api/v1/estates/\{estate_id\}/roster-imports(/.*)?$", ROSTER_IMPORT),
    ("POST|PUT|PATCH|DELETE", r"^/api/v1/estates(/\{estate_id\})?$", ESTATES_MANAGE),
    ("POST|PUT|PATCH|DELETE", r"^/api/v1/(estates/\{estate_id\}/)?jurisdictions(/.*)?$", JURISDICTIONS_WRITE),
    ("POST|PUT|PATCH|DELETE", r"^/api/v1/(estates/\{estate_id\}/)?(buildings|units|owners)(/.*)?$", REGISTRY_WRITE),
    ("GET", r"^/api/v1/(estates|jurisdictions|buildings|units|owners|callers)(/.*)?$", REGISTRY_READ),
]


def _merge_area_tables() -> None:
    # Areas keep their rows in tests/api/permissions/<area>.py, so adding an area touches
    # no shared file; a row written twice is a mistake, not an override.
    import importlib
    import pkgutil

    from tests.api import permissions

    for info in sorted(pkgutil.iter_modules(permissions.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"tests.api.permissions.{info.name}")
        rows: dict[str, frozenset[str]] = getattr(module, "EXPECTED", {})
        twice = set(rows) & set(EXPECTED)
        assert not twice, f"{info.name}: rows already in the table: {sorted(twice)}"
        EXPECTED.update(rows)
        FAMILIES.extend(getattr(module, "FAMILIES", []))


_merge_area_tables()


def expected(method: str, path: str) -> frozenset[str] | None:
    if f"{method} {path}" in EXPECTED:
        return EXPECTED[f"{method} {path}"]
    for methods, pattern, allowed in FAMILIES:
        if method in methods.split("|") and re.match(pattern, path):
            return allowed
    return None
