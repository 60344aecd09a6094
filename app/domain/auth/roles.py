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
    # Repairs (issue 3).
    requests_read = "requests:read"
    requests_write = "requests:write"
    orders_dispatch = "orders:dispatch"
    orders_work = "orders:work"  # a technician's own orders: confirm, accept, start, voucher
    callbacks_write = "callbacks:write"
    callbacks_resolve = "callbacks:resolve"
    orders_approve = "orders:approve"
    repairs_configure = "repairs:configure"
    vouchers_receive = "vouchers:receive"
    # Fees and cash (issue 4).
    fees_read = "fees:read"
    fees_configure = "fees:configure"
    billing_run = "billing:run"
    meter_readings_write = "meter_readings:write"
    payments_take = "payments:take"
    receipts_void = "receipts:void"
    refunds_make = "refunds:make"
    cash_hand_over = "cash:hand_over"
    cash_acknowledge = "cash:acknowledge"


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
    # Everyone who handles repairs reads them; technicians see only their own orders (the
    # service narrows it); the agency desk and finance have no business with repairs.
    Perm.requests_read: _ALL - {R.agency, R.finance},
    # Requests come by phone, walk-in and patrols (§7.3.11): managers and technicians report
    # what they find; night duty takes calls at night.
    Perm.requests_write: {R.receptionist, R.night_duty, R.manager, R.technician, R.supervisor, R.admin},
    Perm.orders_dispatch: {R.receptionist, R.night_duty, R.supervisor, R.admin},
    Perm.orders_work: {R.technician},
    Perm.callbacks_write: {R.receptionist, R.supervisor, R.cs_director, R.admin},
    Perm.callbacks_resolve: {R.cs_director, R.admin},
    Perm.orders_approve: {R.supervisor, R.admin},
    Perm.repairs_configure: {R.supervisor, R.admin},
    # Month-end voucher hand-over: managers take their jurisdiction's, the records clerk the
    # public-area ones; the service checks that the acknowledger is the manifest's recipient.
    Perm.vouchers_receive: {R.manager, R.records_clerk, R.supervisor, R.admin},
    # The desk explains bills (§7.3.13); managers chase their jurisdiction's arrears.
    Perm.fees_read: {R.receptionist, R.night_duty, R.manager, R.supervisor, R.cs_director, R.finance, R.admin},
    Perm.fees_configure: {R.finance, R.admin},
    Perm.billing_run: {R.finance, R.admin},
    Perm.meter_readings_write: {R.receptionist, R.finance, R.admin},
    # Money is taken by those who answer for a cash drawer; the administrator has none.
    Perm.payments_take: {R.receptionist, R.supervisor, R.finance},
    Perm.receipts_void: {R.supervisor},
    Perm.refunds_make: {R.supervisor, R.finance},
    Perm.cash_hand_over: {R.receptionist, R.supervisor, R.finance},
    Perm.cash_acknowledge: {R.finance},
}

# What an integration's read-only API key may do.
API_KEY_PERMS: frozenset[Perm] = frozenset({Perm.reports_read, Perm.registry_read})


def allowed(roles: set[Role] | frozenset[Role], perm: Perm) -> bool:
    return bool(GRANTS.get(perm, set()) & set(roles))
