"""One transition table per aggregate: (state, action) -> new state.

Every table registers itself in TABLES as it is built, so the test that walks every
(state, action) of every table, and `audit.apply` (the one audited way to call a verb),
know them all without a list kept by hand.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, Generic, TypeVar

from app.domain.errors import IllegalTransition

S = TypeVar("S", bound=Enum)

# Every transition table of the domain, by the entity it belongs to.
TABLES: dict[str, TransitionTable[Any]] = {}


class TransitionTable(Generic[S]):
    def __init__(self, entity: str, table: Mapping[tuple[S, str], S], *, clock_only: frozenset[str] = frozenset()) -> None:
        """`clock_only`: verbs only the office's jobs call (flag a missed deadline once);
        they are in the table, but the desk's screens are not offered them."""
        if entity in TABLES:
            raise ValueError(f"a second transition table for {entity!r}")
        self.entity = entity
        self.table = dict(table)
        self.states: type[S] = type(next(iter(self.table))[0])
        self.clock_only = clock_only
        TABLES[entity] = self

    @property
    def actions(self) -> list[str]:
        return sorted({action for (_, action) in self.table})

    def next_state(self, current: S, action: str) -> S:
        try:
            return self.table[(current, action)]
        except KeyError:
            raise IllegalTransition(entity=self.entity, current=current.value, action=action) from None

    def allowed_actions(self, current: S) -> list[str]:
        return sorted(action for (state, action) in self.table if state == current and action not in self.clock_only)
