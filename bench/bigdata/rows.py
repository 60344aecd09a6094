"""Rows as PostgreSQL COPY text: one estate's tables as lists of lines, and the values' formats.

Values are formatted once, in Python, to the text COPY reads (tab-separated, `\\N` for NULL);
no text here contains a tab, a newline or a backslash, so nothing needs escaping. Money is
kept as integer fen until it is written, so every sum is exact.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from typing import Any

NULL = "\\N"
GOLDEN = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1


def money(fen: int) -> str:
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def ts(moment: datetime | None) -> str:
    """An estate-local (Asia/Shanghai, no DST) naive time, written with its offset."""
    return NULL if moment is None else f"{moment.isoformat(' ')}+08"


def day(value: date | None) -> str:
    return NULL if value is None else value.isoformat()


def opt(value: Any) -> str:
    return NULL if value is None else str(value)


def flag(value: bool | None) -> str:
    return NULL if value is None else ("t" if value else "f")


def js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class Ids:
    """Deterministic ids: the estate's number and a counter in the high half, so ids grow in
    load order (the primary keys fill like appends), a hash of the counter in the low half."""

    def __init__(self, estate_no: int) -> None:
        self.prefix = (estate_no + 1) << 40
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return "%016x%016x" % (self.prefix | self.n, (self.n * GOLDEN) & MASK64)


class Rows:
    """One batch: table -> COPY lines, and the columns each table is written with."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = defaultdict(list)

    def add(self, table: str, *values: str) -> None:
        assert len(values) == len(COLUMNS[table]), (table, len(values))
        self.lines[table].append("\t".join(values))

    def count(self) -> int:
        return sum(len(v) for v in self.lines.values())


# The columns each table is written with, in the order `Rows.add` takes them.
COLUMNS: dict[str, tuple[str, ...]] = {k: tuple(v.split()) for k, v in {
    "company": "id created_at name",
    "estate": "id created_at name office_name code time_zone company_id morning_open morning_close afternoon_open "
              "afternoon_close script",
    "user": "id created_at company_id username full_name phone roles password_hash is_active",
    "user_estate": "user_id estate_id",
    "jurisdiction": "id created_at estate_id name manager_id",
    "building": "id created_at estate_id name number jurisdiction_id",
    "unit": "id created_at estate_id building_id entrance number floor area is_public is_vacant note",
    "owner": "id created_at estate_id full_name surname title note",
    "unit_owner": "id created_at estate_id unit_id owner_id is_primary",
    "owner_phone": "id created_at estate_id owner_id phone raw",
    "fee_item": "id created_at estate_id code name kind unit_label applies_to_all vacant_rule vacant_discount due_day active",
    "late_fee_rule": "id created_at estate_id effective_from daily_rate grace_days cap_share fee_item_ids",
    "fee_price": "id created_at estate_id fee_item_id effective_from unit_price",
    "unit_fee_item": "id created_at estate_id unit_id fee_item_id quantity from_month to_month",
    "billing_run": "id created_at estate_id month created_by created_by_id charges_created total",
    "charge": "id created_at estate_id unit_id fee_item_id period description amount amount_paid due_date basis source "
              "source_id billing_run_id paid_at",
    "cashier_session": "id created_at estate_id cashier_id day status expected counted_cash difference note "
                       "handed_over_at acknowledged_at acknowledged_by flagged_late_at acknowledge_note",
    "payment": "id created_at estate_id unit_id method reference amount tendered change_given credit payer_name "
               "cashier_id cashier_session_id received_at",
    "allocation": "id created_at estate_id payment_id charge_id amount reversed_at",
    "receipt": "id created_at estate_id series year seq number payment_id refund_id unit_id amount status issued_at "
               "issued_by cashier_session_id void_reason voided_at voided_by",
    "document_counter": "estate_id series year last_seq",
    "service_request": "id created_at estate_id kind channel urgency category description unit_id owner_id "
                       "is_public_area location contact_name contact_phone window_start window_end reporter_id "
                       "registered_by status closed_note closed_at number",
    "work_order": "id created_at estate_id request_id status category unit_id building_id is_public_area technician_id "
                  "scheduled_start scheduled_end dispatched_at accepted_at started_at completed_at callback_done_at "
                  "approved_at approved_by archived_at cancelled_at cancel_reason reopen_count last_reason number",
    "voucher": "id created_at estate_id work_order_id round technician_id work_done minutes_spent chargeable amount "
               "is_public_area owner_confirmed_name owner_confirmed_by posted_at",
    "stock_item": "id created_at estate_id code name category unit unit_cost quantity active note updated_at",
    "stocktake": "id created_at estate_id reference month status opened_at opened_by due_at note posted_at posted_by "
                 "cancelled_at cancelled_by cancel_reason reminded_at flagged_overdue_at",
    "voucher_material": "id created_at estate_id voucher_id line_no item quantity unit stock_item_id",
    "callback": "id created_at estate_id work_order_id round technician_id completed_at due_at status done_at done_by "
                "overdue_at outcome score note escalated_at resolution resolution_reopened resolved_at resolved_by "
                "attempts last_attempt_at last_attempt_result call_again_at",
    "callback_attempt": "id created_at estate_id callback_id at by result note call_again_at",
    "reply_promise": "id created_at estate_id work_order_id technician_id promised_by due_at confirmed_start "
                     "confirmed_end confirmed_at owner_told_at owner_told_by closed_at withdrawn_reason status",
    "approval_batch": "id created_at estate_id week built_at built_by",
    "approval_line": "id created_at estate_id batch_id work_order_id decision reason decided_by decided_at",
    "voucher_manifest": "id created_at estate_id month kind jurisdiction_id recipient_id built_at acknowledged_at "
                        "acknowledged_by",
    "manifest_line": "id created_at estate_id manifest_id voucher_id work_order_id",
    "complaint": "id created_at estate_id number owner_id unit_id service_request_id complainant_name contact_phone "
                 "channel category severity description received_at deadline status registered_by handler_id "
                 "assigned_at escalated_at escalated_by escalation_reason resolution resolved_at resolved_by "
                 "feedback_satisfied feedback_note feedback_at reopen_count closed_at withdrawn_at withdrawal_reason",
    "complaint_step": "id created_at estate_id complaint_id kind note done_at done_by recorded_by satisfied",
    "stock_movement": "id created_at estate_id stock_item_id kind quantity balance_after unit_cost at work_order_id "
                      "voucher_id stocktake_id reference note actor_id",
    "stocktake_line": "id created_at estate_id stocktake_id stock_item_id code name unit snapshot_quantity book_at_count "
                      "counted_quantity counted_at counted_by note unit_cost adjustment_id",
}.items()}
