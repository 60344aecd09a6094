"""One transition table per aggregate: (state, action) -> new state."""
from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Generic, TypeVar

from app.domain.errors import IllegalTransition

S = TypeVar("S", bound=Enum)


class TransitionTable(Generic[S]):
    def __init__(self, entity: str, table: Mapping[tuple[S, str], S]) -> None:
        self.entity = entity
        self.table = dict(table)

    def next_state(self, current: S, action: str) -> S:
        try:
            return self.table[(current, action)]
        except KeyError:
            raise IllegalTransition(entity=self.entity, current=current.value, action=action) from None

    def allowed_actions(self, current: S) -> list[str]:
        return sorted(action for (state, action) in self.table if state == current)
