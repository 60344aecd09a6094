"""Every transition table of the domain, every (state, action): legal moves land in the table's
state, the rest raise IllegalTransition and leave the state alone.

Tables and aggregates are found, not listed: every TransitionTable registers itself, and every
table model naming one as its `transitions` is walked. A new table is walked the day it exists;
its verbs' arguments are made from their annotations, and ARGS below says where a verb needs
particular ones.
"""
from __future__ import annotations

import inspect
import typing
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from sqlmodel import SQLModel

import app.domain.models  # noqa: F401  (every table model, so every table is registered)
from app.domain.errors import DomainError, IllegalTransition
from app.domain.fees.model import Charge
from app.domain.registry.errors import EstateClosed
from app.domain.repairs.paperwork.model import LineAlreadyDecided, ManifestAlreadyAcknowledged
from app.domain.transitions import TABLES, TransitionTable

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

# Where an annotation cannot say what a verb needs to succeed.
ARGS: dict[tuple[str, str], dict[str, Any]] = {
    ("work_order", "dispatch"): {"start": NOW, "end": NOW + timedelta(hours=1)},
    ("work_order", "reassign"): {"start": NOW, "end": NOW + timedelta(hours=1)},
    ("work_order", "confirm"): {"start": NOW, "end": NOW + timedelta(hours=1)},
    ("reply_promise", "confirm"): {"start": NOW, "end": NOW + timedelta(hours=1)},
    ("callback", "record_satisfied"): {"score": 5},
    ("cashier_session", "hand_over"): {"expected": {"cash": Decimal("10.00")}, "counted_cash": Decimal("10.00")},
    ("owner_code", "attempt_failed"): {"max_attempts": 5},
    ("shift", "accept"): {"entries": []},
    ("rental_entrustment", "edit"): {"changes": {}},
    # A waiver of 1.00 (DERIVED) approved on a charge owing 100.00, reversed on one that waived it.
    ("waiver", "approve"): {"charge": Charge(amount=Decimal("100.00"), amount_paid=Decimal("0.00"),
                                             amount_waived=Decimal("0.00"), state="open")},
    ("waiver", "reverse"): {"charge": Charge(amount=Decimal("100.00"), amount_paid=Decimal("0.00"),
                                             amount_waived=Decimal("1.00"), state="open")},
    # A paid charge's cancel approved as asked: the charge open, 1.00 (DERIVED) paid on it still.
    ("charge_cancellation", "approve"): {"charge": Charge(amount=Decimal("100.00"), amount_paid=Decimal("1.00"),
                                                          amount_waived=Decimal("0.00"), state="open"),
                                         "paid_now": Decimal("1.00")},
}

# Aggregates whose state is read from their columns (no `status` column): how a row is put in a state.
DERIVED: dict[str, Callable[[Any, Any], None]] = {
    "approval_line": lambda row, state: setattr(row, "decision", state),
    "voucher_manifest": lambda row, state: setattr(row, "acknowledged_at", None if state.value == "built" else NOW),
    "estate": lambda row, state: setattr(row, "closed_at", None if state.value == "open" else NOW),
    "api_key": lambda row, state: setattr(row, "revoked_at", None if state.value == "active" else NOW),
    "waiver": lambda row, state: setattr(row, "amount", Decimal("1.00")),
    "charge_cancellation": lambda row, state: setattr(row, "amount_paid", Decimal("1.00")),
    "charge": lambda row, state: setattr(row, "state", state),  # the column is `state`; `status` reads it
}

# Where a refused move answers the aggregate's own named problem (a line decided twice), as it
# did before the aggregate had a table: (entity, state) -> that problem.
NAMED: dict[tuple[str, str], type[DomainError]] = {
    ("approval_line", "approved"): LineAlreadyDecided,
    ("approval_line", "returned"): LineAlreadyDecided,
    ("voucher_manifest", "acknowledged"): ManifestAlreadyAcknowledged,
    ("estate", "closed"): EstateClosed,
}

# Verbs that pick their table action themselves (issuing a locked code unlocks it): the table's
# action of that name is walked by the aggregate's mover instead.
CHOOSES = {("owner_code", "issue")}


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def aggregates() -> dict[str, type[SQLModel]]:
    found = {}
    for cls in _subclasses(SQLModel):
        table = cls.__dict__.get("transitions")
        if isinstance(table, TransitionTable) and hasattr(cls, "__table__"):
            found[table.entity] = cls
    return found


AGGREGATES = aggregates()


def test_every_table_belongs_to_an_aggregate() -> None:
    assert sorted(AGGREGATES) == sorted(TABLES), "a transition table no table model names as its `transitions`"


def _value(name: str, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
        origin = typing.get_origin(hint)
    simple = {datetime: NOW, uuid.UUID: uuid.uuid4(), str: "理由：業主來電", bool: False, int: 1,
              Decimal: Decimal("1.00")}
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return next(iter(hint))
    if origin is dict:
        return {}
    if origin in (list, tuple) or str(origin).endswith("Sequence'>"):
        return []
    raise AssertionError(f"say in ARGS what {name}: {hint} should be")


def _verb(cls: type, entity: str, action: str) -> Any:
    """The aggregate's verb of that name; tables moved by a generic `move(action)` are walked through it."""
    if callable(getattr(cls, action, None)) and (entity, action) not in CHOOSES:
        return action
    return "move" if callable(getattr(cls, "move", None)) else "_move"


def kwargs_for(cls: type, entity: str, action: str) -> tuple[str, dict[str, Any]]:
    verb = _verb(cls, entity, action)
    if verb != action:
        return verb, {"action": action}
    hints = typing.get_type_hints(getattr(cls, verb), globalns=vars(inspect.getmodule(cls)))
    params = inspect.signature(getattr(cls, verb)).parameters
    given = ARGS.get((entity, action), {})
    args = {n: given[n] if n in given else _value(n, hints.get(n, str)) for n, p in params.items()
            if n != "self" and (n in given or p.default is inspect.Parameter.empty)}
    return verb, args


def _in(cls: type, entity: str, state: Enum) -> Any:
    """A row in `state` with every required column filled (table models skip validation, so the
    verbs would otherwise read None), times a day ahead of NOW so no deadline has passed."""
    row = cls(status=state)
    for column in cls.__table__.columns:
        if getattr(row, column.key, None) is not None or (column.nullable and column.key != "technician_id"):
            continue
        kind = column.type.python_type if hasattr(column.type, "python_type") else str
        value = {datetime: NOW + timedelta(days=1), uuid.UUID: uuid.uuid4(), str: "x", int: 0, bool: False,
                 Decimal: Decimal("0.00"), dict: {}}.get(kind)
        setattr(row, column.key, value)
    if entity in DERIVED:
        DERIVED[entity](row, state)
    return row


CASES = [(entity, state, action) for entity, table in sorted(TABLES.items()) for state in table.states
         for action in table.actions]


@pytest.mark.parametrize(("entity", "state", "action"), CASES, ids=[f"{e}-{s.value}-{a}" for e, s, a in CASES])
def test_every_state_and_action(entity: str, state: Enum, action: str) -> None:
    cls, table = AGGREGATES[entity], TABLES[entity]
    row = _in(cls, entity, state)
    verb, kwargs = kwargs_for(cls, entity, action)
    target = table.table.get((state, action))
    named = NAMED.get((entity, state.value))
    if target is None and named is not None:
        with pytest.raises(named):
            getattr(row, verb)(**kwargs)
        assert row.status == state
    elif target is None:
        with pytest.raises(IllegalTransition) as exc:
            getattr(row, verb)(**kwargs)
        assert exc.value.extra == {"entity": entity, "current_state": state.value, "action": action}
        assert row.status == state
    else:
        getattr(row, verb)(**kwargs)
        assert row.status == target


def test_clock_only_verbs_are_not_offered() -> None:
    for table in TABLES.values():
        for state in table.states:
            assert not set(table.allowed_actions(state)) & table.clock_only
