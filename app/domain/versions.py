"""Row versions for safe concurrent edits (issue 19): the database counts every UPDATE.

An edited table carries `version`, set to 1 on insert and raised by a BEFORE UPDATE trigger,
so no writer (the ORM, a job's Core UPDATE, a hand-run SQL fix) can change a row without
changing its version. The API shows it as the ETag; an edit sent with If-Match names the
version it was based on, and `check` refuses it when the row (read under FOR UPDATE, so two
edits of one row cannot both pass) has moved on since.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field as PydanticField
from sqlalchemy import DDL, DateTime, FetchedValue, Select, event, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Field, SQLModel

from app.domain.base import utcnow
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


class EditVersion(Versioned, table=True):
    """The version of a record kept in several rows (an estate's complaint deadlines, a day's duty
    roster, a year of the holiday calendar): its rows come and go, this row counts the edits."""

    __tablename__ = "edit_version"
    key: str = Field(primary_key=True, max_length=200)
    touched_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


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


def version_of(row: Any | None) -> int:
    """A row's version; 0 for a record not stored yet (a setting still at its default)."""
    return 0 if row is None else int(row.version)


def check(row: Any | None, expected_version: int | None) -> None:
    """Refuse an edit based on another version than the row's; the row must be locked FOR UPDATE
    (None: a record not stored yet, version 0)."""
    if expected_version is not None:
        _compare(version_of(row), expected_version)


def _compare(current: int, expected_version: int | None) -> None:
    if expected_version is not None and current != expected_version:
        raise PreconditionFailed(f"the record is at {etag(current)}, the edit was based on {etag(expected_version)}",
                                 current_etag=etag(current))


# The member of an editable record's Read schema that its ETag shows.
RowVersion = Annotated[int, PydanticField(
    ge=0, description='Raised by every change of the record; its ETag is "<version>". 0: nothing stored yet (the defaults)')]


async def check_locked(session: AsyncSession, row: Any, *, expected_version: int | None) -> None:
    """For a row loaded without a lock: when the edit names a version, lock the row (reading it
    again under the lock, so a concurrent edit committed meanwhile is seen) and check it."""
    if expected_version is None:
        return
    await session.refresh(row, with_for_update=True)
    check(row, expected_version)


async def load_for_edit(session: AsyncSession, stmt: Select[Any], *, record: str, expected_version: int | None) -> Any | None:
    """The one row a PUT edits (`stmt` selects it), locked FOR UPDATE and checked against If-Match;
    None when nothing is stored yet (version 0).

    A missing row cannot be locked: two first saves would both pass, and the second then fail
    on the unique key. So when it is missing, a transaction lock on its key queues them, and the
    second reads again what the first committed (and is refused, or updates it)."""
    row = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if row is None:
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(record, 0))))
        row = (await session.execute(stmt.with_for_update().execution_options(populate_existing=True))).scalar_one_or_none()
    check(row, expected_version)
    return row


def touch(row: Any, column: str) -> None:
    """Make the next flush UPDATE the row although none of its columns changed (the record's
    parts in other rows did), so the trigger raises its version."""
    flag_modified(row, column)


def key(kind: str, *parts: object) -> str:
    """The EditVersion key of a record kept in several rows: duty_roster:<estate>:<day>."""
    return ":".join([kind, *map(str, parts)])


async def claim(session: AsyncSession, record: str, *, expected_version: int | None) -> None:
    """Lock a record kept in several rows for an edit and check If-Match against its version.

    The counter row is made first (at 0) when missing, so that two first edits also queue on it."""
    await session.execute(pg_insert(EditVersion).values(key=record, version=0, touched_at=utcnow()).on_conflict_do_nothing())
    current = (await session.execute(select(EditVersion.version).where(EditVersion.key == record).with_for_update())).scalar_one()
    _compare(current, expected_version)


async def bump(session: AsyncSession, record: str) -> int:
    """Count an edit of a record `claim`ed in this transaction; its new version."""
    stmt = update(EditVersion).where(EditVersion.key == record).values(touched_at=utcnow()).returning(EditVersion.version)
    return int((await session.execute(stmt)).scalar_one())


async def current(session: AsyncSession, record: str) -> int:
    """A record's version as a read shows it (0: never edited)."""
    return (await current_of(session, [record]))[record]


async def current_of(session: AsyncSession, records: list[str]) -> dict[str, int]:
    """Several records' versions in one query (a month of duty-roster days)."""
    found = dict((await session.execute(select(EditVersion.key, EditVersion.version).where(EditVersion.key.in_(records)))).tuples().all())
    return {r: found.get(r, 0) for r in records}
