"""Roles of the office and what each may do. One table; routes ask for a permission."""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
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


class Perm(StrEnum):
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
    # Repairs.
    requests_read = "requests:read"
    requests_write = "requests:write"
    orders_dispatch = "orders:dispatch"
    orders_work = "orders:work"  # a technician's own orders: confirm, accept, start, voucher
    callbacks_write = "callbacks:write"
    callbacks_resolve = "callbacks:resolve"
    orders_approve = "orders:approve"
    repairs_configure = "repairs:configure"
    vouchers_receive = "vouchers:receive"
    # Fees and cash.
    fees_read = "fees:read"
    fees_configure = "fees:configure"
    billing_run = "billing:run"
    meter_readings_write = "meter_readings:write"
    payments_take = "payments:take"
    receipts_void = "receipts:void"
    receipts_print = "receipts:print"  # a recorded print (the first, then 补打 N); previews need fees:read
    refunds_make = "refunds:make"
    refunds_approve = "refunds:approve"  # a refund of a prepaid balance above the set amount
    cash_hand_over = "cash:hand_over"
    cash_acknowledge = "cash:acknowledge"
    charges_cancel = "charges:cancel"  # correct a wrong charge: cancel it with a reason, bill the right one
    charge_cancellations_approve = "charge-cancellations:approve"  # cancel a paid charge someone else asked to
    fee_reports_read = "fee_reports:read"  # Saturday register, month-end fee report (desk, supervisor, finance)
    shared_meters_approve = "shared_meters:approve"  # a shared meter's split (公摊), before it is billed
    waivers_request = "waivers:request"  # ask for a waiver (减免) on a charge
    waivers_approve = "waivers:approve"  # approve or reject one; finance alone above waiver_finance_above
    # The rest of the desk.
    complaints_read = "complaints:read"
    complaints_write = "complaints:write"  # register, disposition steps, owner's feedback
    complaints_manage = "complaints:manage"  # assign handler, close, deadlines per estate
    visitors_write = "visitors:write"
    desk_read = "desk:read"  # visitors, night log, hand-overs, duty log, the day's diary
    night_log_write = "night_log:write"
    shift_hand_over = "shift:hand_over"  # hand over and take over a shift
    duty_log_write = "duty_log:write"
    attendance_sign = "attendance:sign"
    attendance_read = "attendance:read"  # everyone's attendance, not just one's own
    duty_roster_read = "duty_roster:read"
    duty_roster_manage = "duty_roster:manage"
    holiday_calendar_manage = "holiday_calendar:manage"  # the company's statutory holidays and 調休 days
    rentals_read = "rentals:read"
    rentals_write = "rentals:write"
    stock_read = "stock:read"
    stock_write = "stock:write"  # receive, issue, return
    stock_configure = "stock:configure"  # stock items and their cost
    stocktake_count = "stocktake:count"  # open a count, enter counted quantities
    stocktake_post = "stocktake:post"
    # What needs me now, and the events that tell integrations.
    webhooks_manage = "webhooks:manage"
    attention_read = "attention:read"
    events_stream = "events:stream"
    # The desk's phone: announce an incoming call (the telephony integration or the desk client)
    # and see it pop up on the stream with the caller's lookup.
    calls_answer = "calls:answer"
    notifications_manage = "notifications:manage"  # the wording of owner notifications


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
    # The paper handed to a payer is printed by those who answer for the receipts and the drawer.
    Perm.receipts_print: {R.receptionist, R.supervisor, R.finance},
    Perm.refunds_make: {R.supervisor, R.finance},
    # A second pair of eyes on large refunds: never the person who asked (the service checks).
    Perm.refunds_approve: {R.supervisor, R.finance},
    Perm.cash_hand_over: {R.receptionist, R.supervisor, R.finance},
    Perm.cash_acknowledge: {R.finance},
    # The desk asks for a waiver; someone else, the supervisor (finance above the threshold), approves it.
    Perm.waivers_request: {R.receptionist, R.supervisor, R.finance},
    Perm.waivers_approve: {R.supervisor, R.finance},
    # A wrong charge is corrected by those who answer for the ledger: finance and the supervisor.
    Perm.charges_cancel: {R.finance, R.supervisor},
    # A paid charge's cancel moves money to the unit's account: a second person of the two approves.
    Perm.charge_cancellations_approve: {R.supervisor, R.finance},
    # The desk compiles the Saturday register and the month-end report (§5.5, §5.8) that the
    # supervisor and finance receive.
    Perm.fee_reports_read: {R.receptionist, R.supervisor, R.cs_director, R.finance, R.admin},
    # A shared meter's split bills every unit of a building at once: finance (who answers for the
    # fees) or the supervisor checks it, never the person who recorded it (the service refuses that).
    # Not the administrator: it sets up accounts and integrations, it does not answer for money.
    Perm.shared_meters_approve: {R.finance, R.supervisor},
    # Complaints are taken by whoever talks to owners; handlers are assigned by the supervisor
    # and the CS director, who answers for them (§7.3.10).
    Perm.complaints_read: {R.receptionist, R.night_duty, R.manager, R.supervisor, R.cs_director, R.admin},
    Perm.complaints_write: {R.receptionist, R.night_duty, R.manager, R.supervisor, R.cs_director, R.admin},
    Perm.complaints_manage: {R.supervisor, R.cs_director, R.admin},
    Perm.visitors_write: {R.receptionist, R.night_duty, R.supervisor, R.admin},
    Perm.desk_read: _OFFICE,
    Perm.night_log_write: {R.night_duty, R.receptionist, R.supervisor, R.admin},
    Perm.shift_hand_over: {R.receptionist, R.night_duty, R.supervisor},
    Perm.duty_log_write: _ALL - {R.agency},
    Perm.attendance_sign: _ALL - {R.admin},
    Perm.attendance_read: {R.supervisor, R.cs_director, R.admin},
    Perm.duty_roster_read: _ALL,
    Perm.duty_roster_manage: {R.supervisor, R.admin},
    # The State Council's schedule is entered once for the whole company, by its administrator.
    Perm.holiday_calendar_manage: {R.admin},
    # Rental entrustments are the agency desk's; the front desk takes them in from owners.
    Perm.rentals_read: {R.agency, R.receptionist, R.supervisor, R.cs_director, R.admin},
    Perm.rentals_write: {R.agency, R.receptionist, R.supervisor, R.admin},
    Perm.stock_read: {R.receptionist, R.technician, R.manager, R.supervisor, R.finance, R.admin},
    Perm.stock_write: {R.receptionist, R.supervisor, R.admin},
    Perm.stock_configure: {R.supervisor, R.finance, R.admin},
    Perm.stocktake_count: {R.receptionist, R.supervisor, R.finance, R.admin},
    Perm.stocktake_post: {R.supervisor, R.finance, R.admin},
    # Integrations are wired up by the administrator, who holds their secrets.
    Perm.webhooks_manage: {R.admin},
    Perm.attention_read: _ALL,
    Perm.events_stream: _ALL,
    # Whoever answers the desk's phone; the caller's screen (names, units, arrears) is theirs alone,
    # and the administrator's, who gives the telephony integration its key (one grants only what one holds).
    Perm.calls_answer: {R.receptionist, R.night_duty, R.supervisor, R.admin},
    Perm.notifications_manage: {R.supervisor, R.admin},
}

# What an integration's API key may do: read, and (a telephony integration) announce a call.
API_KEY_PERMS: frozenset[Perm] = frozenset({Perm.reports_read, Perm.registry_read, Perm.fee_reports_read,
                                            Perm.calls_answer})


def allowed(roles: set[Role] | frozenset[Role], perm: Perm) -> bool:
    return bool(GRANTS.get(perm, set()) & set(roles))
