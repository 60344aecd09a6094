"""Row versions for safe concurrent edits (issue 19): the database counts every UPDATE.

An edited table carries `version`, set to 1 on insert and raised by a BEFORE UPDATE trigger,
so no writer (the ORM, a job's Core UPDATE, a hand-run SQL fix) can change a row without
changing its version. The API shows it as the ETag; an edit sent with If-Match names the
version it was based on, and `check` refuses it when the row (read under FOR UPDATE, so two
edits of one row cannot both pass) has moved on since.
"""
from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field as PydanticField
from sqlalchemy import DDL, FetchedValue, event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from app.domain.errors import DomainError, ErrorKind

BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION bump_version() RETURNS trigger AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""


def bump_trigger(table: str) -> str:
    return f'CREATE TRIGGER "{table}_bump_version" BEFORE UPDATE ON "{table}" FOR EACH ROW EXECUTE FUNCTION bump_version()'


class Versioned(SQLModel):
    """A table whose rows are edited by PATCH/PUT: the version the trigger keeps."""

    # server_onupdate: the trigger sets it; eager_defaults: the ORM reads it back with RETURNING
    # on the UPDATE itself, so the answer to an edit carries the new version without a query
    # (a lazy reload would be an error in async). Not version_id_col: its `WHERE version = :old`
    # would turn every unconditional write that races another (a job, a state change) into a
    # StaleDataError, where only a client that sent If-Match asked to be refused.
    version: int = Field(default=1, nullable=False,
                         sa_column_kwargs={"server_default": text("1"), "server_onupdate": FetchedValue()})
    __mapper_args__: ClassVar[dict[str, Any]] = {"eager_defaults": True}


@event.listens_for(Mapper, "after_mapper_constructed")
def _bump_on_update(mapper: Mapper[Any], class_: type) -> None:
    # create_all (the tests' databases) gets the trigger as the migration does.
    if issubclass(class_, Versioned) and mapper.local_table is not None:
        name = mapper.local_table.name  # type: ignore[attr-defined]
        event.listen(mapper.local_table, "after_create", DDL(BUMP_FUNCTION))
        event.listen(mapper.local_table, "after_create", DDL(bump_trigger(name)))


class PreconditionFailed(DomainError):
    kind = ErrorKind.precondition_failed
    title = "The record was changed since you read it; read it again"
    title_zh = "记录在您读取后已被修改，请重新读取"


class IfMatchRequired(DomainError):
    kind = ErrorKind.precondition_required
    title = "Send If-Match with the ETag of the record you read"
    title_zh = "请在 If-Match 中附上您读取的记录的 ETag"


def etag(version: int) -> str:
    return f'"{version}"'


def check(row: Any, expected_version: int | None) -> None:
    """Refuse an edit based on another version than the row's; the row must be locked FOR UPDATE."""
    if expected_version is not None and row.version != expected_version:
        raise PreconditionFailed(f"the record is at {etag(row.version)}, the edit was based on {etag(expected_version)}",
                                 current_etag=etag(row.version))


# The member of an editable record's Read schema that its ETag shows.
RowVersion = Annotated[int, PydanticField(ge=1, description='Raised by every change of the record; its ETag is "<version>"')]


async def check_locked(session: AsyncSession, row: Any, *, expected_version: int | None) -> None:
    """For a row loaded without a lock: when the edit names a version, lock the row (reading it
    again under the lock, so a concurrent edit committed meanwhile is seen) and check it."""
    if expected_version is None:
        return
    await session.refresh(row, with_for_update=True)
    check(row, expected_version)
