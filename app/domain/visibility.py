"""Loading one row the caller may see: a row of another estate is not acknowledged to exist.

Each model declares its rule once, beside its named NotFound error: which column says the
row's estate (its `estate_id` unless told), and any narrower rule for some roles (a
technician sees only his own orders). `load_visible` is the one loader; a row that is
missing and a row the caller may not see give the same 404, so ids of other estates
cannot be probed.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import false, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.domain import versions
from app.domain.auth.principal import Actor
from app.domain.errors import NotFound

M = TypeVar("M")


@dataclass(frozen=True, kw_only=True)
class Visible(Generic[M]):
    """Which rows of `model` an actor may see, and the error that says one is not there."""

    model: type[M]
    missing: type[NotFound]
    # The column naming the row's estate; the model's own estate_id when None (an estate
    # names itself by its id; a child could name its parent's through a scalar subquery).
    estate: Any = None
    # A further condition for some actors (None: the estate decides alone).
    narrow: Callable[[Actor], ColumnElement[bool] | None] | None = None
    # The problem's extension member naming the id asked for, where the error has always had one.
    id_field: str | None = None

    rules: ClassVar[dict[type, Visible[Any]]] = {}

    def __post_init__(self) -> None:
        # One rule per model: a second would be the drift this module exists to end.
        if self.model in Visible.rules:
            raise TypeError(f"{self.model.__name__} already has a visibility rule")
        Visible.rules[self.model] = self

    def condition(self, actor: Actor) -> ColumnElement[bool]:
        estate = self.estate if self.estate is not None else getattr(self.model, "estate_id")
        seen = true() if actor.is_system else estate.in_(sorted(actor.estate_ids))
        narrower = self.narrow(actor) if self.narrow is not None else None
        return seen if narrower is None else seen & narrower

    def not_found(self, row_id: uuid.UUID) -> NotFound:
        return self.missing(**{self.id_field: str(row_id)}) if self.id_field else self.missing()


def own(column: Any, actor: Actor) -> ColumnElement[bool]:
    """`column` names the actor (an actor without an id owns nothing, rather than every NULL)."""
    return false() if actor.id is None else column == actor.id


async def load_visible(
    session: AsyncSession, rule: Visible[M], row_id: uuid.UUID, *, actor: Actor, lock: bool = False, expected_version: int | None = None,
) -> M:
    """The row when `actor` may see it, else the model's NotFound.

    lock: SELECT ... FOR UPDATE, and the values read under the lock replace any older copy the
    session holds (two people acting on one record at once: the second sees the first's state).
    expected_version: the version an edit was based on (If-Match); read under the lock, so
    of two edits based on one version the second waits for the first and is refused.
    """
    lock = lock or expected_version is not None
    model: Any = rule.model
    stmt = select(model).where(model.id == row_id, rule.condition(actor))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row: M | None = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise rule.not_found(row_id)
    versions.check(row, expected_version)
    return row
