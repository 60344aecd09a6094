"""Roles of the office and what each may do. One table; routes ask for a permission."""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    receptionist = "receptionist"
    technician = "technician"
    manager = "manager"
    night_duty = "night_duty"
    supervisor = "supervisor"
    cs_director = "cs_director"
    finance = "finance"
    records_clerk = "records_clerk"
    agency = "agency"
    admin = "admin"


class Perm(str, Enum):
    registry_read = "registry:read"
    registry_write = "registry:write"
    roster_import = "roster:import"
    estates_manage = "estates:manage"
    users_read = "users:read"
    users_manage = "users:manage"
    api_keys_manage = "api_keys:manage"
    audit_read = "audit:read"
    jobs_read = "jobs:read"
    jobs_run = "jobs:run"
    reports_read = "reports:read"
    jurisdictions_manage = "jurisdictions:manage"


R = Role
_ALL = set(Role)
_OFFICE = _ALL - {R.technician, R.agency}

GRANTS: dict[Perm, set[Role]] = {
    # Everyone who talks to owners needs the roster; technicians see addresses on their orders.
    Perm.registry_read: _ALL,
    Perm.registry_write: {R.receptionist, R.supervisor, R.admin},
    Perm.roster_import: {R.supervisor, R.admin},
    Perm.estates_manage: {R.admin},
    Perm.users_read: {R.supervisor, R.cs_director, R.admin},
    Perm.users_manage: {R.admin},
    Perm.api_keys_manage: {R.admin},
    Perm.audit_read: {R.supervisor, R.cs_director, R.finance, R.admin},
    Perm.jobs_read: {R.supervisor, R.admin},
    Perm.jobs_run: {R.admin},
    Perm.reports_read: _OFFICE,
    # Who answers to which manager is the supervisor's call, not the desk's.
    Perm.jurisdictions_manage: {R.supervisor, R.admin},
}

# What an integration's read-only API key may do.
API_KEY_PERMS: frozenset[Perm] = frozenset({Perm.reports_read, Perm.registry_read})


def allowed(roles: set[Role] | frozenset[Role], perm: Perm) -> bool:
    return bool(GRANTS.get(perm, set()) & set(roles))
