"""A closed estate takes no new records: one check where every write passes, the session.

Services create rows in some forty places; rather than asking each to look at the estate,
every flush that adds a row carrying an estate_id (and every Core INSERT into such a table)
first asks whether that estate is closed. History stays readable and reportable: updates of
existing rows, reads, and the trail of what happened (audit, events, job runs, the stored
reports) go on.
"""
from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import Insert, event, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from app.domain.registry.errors import EstateClosed
from app.domain.registry.model import Estate

# What a closed estate still writes: the record of events, not new business.
EXEMPT_TABLES = frozenset({
    "audit_entry", "outbox_event", "webhook_delivery", "job_run", "user_estate",
    "fee_report", "daily_repair_log", "callback_rate_record",
})
_OPEN = "propdesk.open_estates"
_ESTATE_PARAM = re.compile(r"^estate_id(_m\d+)?$")


def forget(session: Session, estate_id: uuid.UUID) -> None:
    """The estate's state changed in this session: check it again at the next write."""
    session.info.get(_OPEN, set()).discard(estate_id)


def _refuse_if_closed(session: Session, estate_ids: set[uuid.UUID]) -> None:
    known_open: set[uuid.UUID] = session.info.setdefault(_OPEN, set())
    unknown = estate_ids - known_open
    if not unknown:
        return
    stmt = select(Estate.id, Estate.code).where(Estate.id.in_(unknown), Estate.closed_at.is_not(None)).limit(1)
    closed = session.execute(stmt, execution_options={"propdesk_estate_check": True}).first()
    if closed is not None:
        raise EstateClosed(f"estate {closed.code} is closed; its records can be read but not added to",
                           estate_id=str(closed.id))
    known_open |= unknown


def _new_rows_estates(session: Session) -> set[uuid.UUID]:
    out = set()
    for row in session.new:
        if getattr(row, "__tablename__", None) in EXEMPT_TABLES:
            continue
        estate_id = getattr(row, "estate_id", None)
        if isinstance(estate_id, uuid.UUID):
            out.add(estate_id)
    return out


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    estate_ids = _new_rows_estates(session)
    if estate_ids:
        _refuse_if_closed(session, estate_ids)


def _insert_estates(state: ORMExecuteState) -> set[uuid.UUID]:
    stmt = state.statement
    if not isinstance(stmt, Insert) or stmt.table.name in EXEMPT_TABLES or "estate_id" not in stmt.table.c:
        return set()
    params = stmt.compile(dialect=state.session.get_bind().dialect).params
    return {v for k, v in params.items() if _ESTATE_PARAM.match(k) and isinstance(v, uuid.UUID)}


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    # Seeding and upserts (INSERT ... ON CONFLICT) bypass the unit of work.
    if state.execution_options.get("propdesk_estate_check"):
        return
    estate_ids = _insert_estates(state)
    if estate_ids:
        _refuse_if_closed(state.session, estate_ids)
