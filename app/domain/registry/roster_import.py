"""Importing the office's roster into the registry: a dry run reports, a real run writes all or nothing.

Natural keys make a re-upload of the same file change nothing: a building by its name in
the estate, a unit by (building, entrance, room), an owner by (unit, full name), a phone by
(owner, normalised number). The import adds and corrects; it never deletes.
"""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit.service import record
from app.domain.auth.principal import Actor
from app.domain.errors import Invalid
from app.domain.registry import service as registry_service
from app.domain.registry.errors import EstateNotFound
from app.domain.registry.model import Building, Owner, OwnerPhone, Unit, UnitOwner
from app.domain.registry.roster import ParsedRoster, Phone, RosterRow, RosterUnreadable, RowError
from app.domain.registry.roster_file import parse_roster

__all__ = ["EstateNotFound", "RosterHasErrors", "RosterReport", "RosterUnreadable", "import_roster"]

MAX_ERRORS_SHOWN = 1000
NOTE_SEPARATOR = "；"


class RosterHasErrors(Invalid):
    title = "The roster has rows that cannot be read; nothing was imported"
    title_zh = "名册中有无法读取的行，未导入任何内容"


class Tally(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class RowProblem(BaseModel):
    row: int  # as the spreadsheet numbers it
    column: str  # the header as the file writes it
    problem: str


class RosterReport(BaseModel):
    dry_run: bool
    rows_read: int
    buildings: Tally
    units: Tally
    owners: Tally
    phones: Tally
    error_count: int
    errors: list[RowProblem]


@dataclass
class _Existing:
    buildings: dict[str, Building]
    units: dict[tuple[uuid.UUID, str, str], Unit]
    owners: dict[tuple[uuid.UUID, str], tuple[Owner, UnitOwner]]
    phones: set[tuple[uuid.UUID, str]]


async def _load(session: AsyncSession, estate_id: uuid.UUID) -> _Existing:
    buildings = (await session.scalars(select(Building).where(Building.estate_id == estate_id))).all()
    units = (await session.scalars(select(Unit).where(Unit.estate_id == estate_id))).all()
    links = (await session.execute(
        select(UnitOwner, Owner).join(Owner, Owner.id == UnitOwner.owner_id).where(UnitOwner.estate_id == estate_id)
    )).all()
    phones = (await session.execute(
        select(OwnerPhone.owner_id, OwnerPhone.phone).where(OwnerPhone.estate_id == estate_id)
    )).all()
    return _Existing(
        buildings={b.name: b for b in buildings},
        units={(u.building_id, u.entrance, u.number): u for u in units},
        owners={(link.unit_id, owner.full_name): (owner, link) for link, owner in links},
        phones={(owner_id, phone) for owner_id, phone in phones},
    )


@dataclass
class _Plan:
    """What the roster changes. Loaded rows are changed only when `write`, so a dry run leaves the session clean."""

    estate_id: uuid.UUID
    existing: _Existing
    write: bool
    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in ("buildings", "units", "owners", "phones")})
    seen: set[uuid.UUID] = field(default_factory=set)  # buildings counted already
    new: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in ("buildings", "units", "owners", "links", "phones")})

    def change(self, kind: str, *edits: tuple[Any, dict[str, Any]]) -> None:
        if not any(changes for _, changes in edits):
            self.tallies[kind].unchanged += 1
            return
        self.tallies[kind].updated += 1
        if self.write:
            for obj, changes in edits:
                for name, value in changes.items():
                    setattr(obj, name, value)

    def create(self, kind: str, obj: Any, link: UnitOwner | None = None) -> None:
        self.tallies[kind].created += 1
        self.new[kind].append(obj)
        if link is not None:
            self.new["links"].append(link)

    def building(self, row: RosterRow) -> Building:
        found = self.existing.buildings.get(row.building)
        if found is None:
            found = Building(estate_id=self.estate_id, name=row.building, number=row.building_number)
            self.existing.buildings[row.building] = found
            self.create("buildings", found)
        elif found.id not in self.seen:
            renumbered = row.building_number is not None and found.number != row.building_number
            self.change("buildings", (found, {"number": row.building_number} if renumbered else {}))
        self.seen.add(found.id)
        return found

    def unit(self, building: Building, rows: list[RosterRow]) -> Unit:
        first = rows[0]
        wanted: dict[str, Any] = {"area": first.area, "floor": first.floor, "is_vacant": any(r.vacant for r in rows), "note": _notes(rows)}
        found = self.existing.units.get((building.id, first.entrance, first.room))
        if found is None:
            found = Unit(estate_id=self.estate_id, building_id=building.id, entrance=first.entrance, number=first.room, **wanted)
            self.create("units", found)
            return found
        if wanted["floor"] is None:
            del wanted["floor"]
        if not wanted["note"]:
            del wanted["note"]  # a blank 备注 keeps what the desk wrote since
        self.change("units", (found, {k: v for k, v in wanted.items() if getattr(found, k) != v}))
        return found

    def owner(self, unit: Unit, row: RosterRow, *, primary: bool) -> Owner:
        found = self.existing.owners.get((unit.id, row.full_name))
        if found is None:
            owner = Owner(estate_id=self.estate_id, full_name=row.full_name, surname=row.surname, title=row.title)
            link = UnitOwner(estate_id=self.estate_id, unit_id=unit.id, owner_id=owner.id, is_primary=primary)
            self.existing.owners[(unit.id, row.full_name)] = (owner, link)
            self.create("owners", owner, link)
            return owner
        owner, link = found
        retitled = {"title": row.title} if row.title is not None and owner.title != row.title else {}
        relinked = {"is_primary": primary} if link.is_primary != primary else {}
        self.change("owners", (owner, retitled), (link, relinked))
        return owner

    def phone(self, owner: Owner, phone: Phone) -> None:
        if (owner.id, phone.phone) in self.existing.phones:
            self.tallies["phones"].unchanged += 1
            return
        self.existing.phones.add((owner.id, phone.phone))
        self.create("phones", OwnerPhone(estate_id=self.estate_id, owner_id=owner.id, phone=phone.phone, raw=phone.raw))


def _notes(rows: Iterable[RosterRow]) -> str:
    notes = dict.fromkeys(r.note for r in rows if r.note)
    return NOTE_SEPARATOR.join(notes)[:200]


def _by_unit(rows: list[RosterRow]) -> list[list[RosterRow]]:
    groups: dict[tuple[str, str, str], list[RosterRow]] = {}
    for row in rows:
        groups.setdefault(row.unit_key, []).append(row)
    return list(groups.values())


def _plan_unit(plan: _Plan, rows: list[RosterRow]) -> None:
    unit = plan.unit(plan.building(rows[0]), rows)
    owner_rows = [r for r in rows if r.full_name]
    primary = next((r for r in owner_rows if not r.co_owner), owner_rows[0] if owner_rows else None)
    done: set[str] = set()
    for row in owner_rows:
        if row.full_name in done:
            # The same owner twice on one unit: one owner, all the numbers.
            owner = plan.existing.owners[(unit.id, row.full_name)][0]
        else:
            owner = plan.owner(unit, row, primary=row is primary)
            done.add(row.full_name)
        for phone in row.phones:
            plan.phone(owner, phone)


async def _write(session: AsyncSession, plan: _Plan) -> None:
    # Parents before children: the tables have foreign keys but no ORM relationships to order them.
    for kind in ("buildings", "units", "owners"):
        session.add_all(plan.new[kind])
        await session.flush()
    session.add_all(plan.new["links"] + plan.new["phones"])
    await session.flush()


def _report(parsed: ParsedRoster, plan: _Plan, *, dry_run: bool) -> RosterReport:
    return RosterReport(
        dry_run=dry_run, rows_read=parsed.rows_read, **plan.tallies, error_count=len(parsed.errors),
        errors=[RowProblem(row=e.row, column=e.column, problem=e.problem) for e in parsed.errors[:MAX_ERRORS_SHOWN]],
    )


def _refuse(errors: list[RowError]) -> RosterHasErrors:
    shown = [{"row": e.row, "column": e.column, "problem": e.problem} for e in errors[:MAX_ERRORS_SHOWN]]
    return RosterHasErrors(f"{len(errors)} problem(s) in the roster; nothing was imported", errors=shown, error_count=len(errors))


async def import_roster(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: bytes, filename: str, dry_run: bool,
) -> RosterReport:
    """Read the roster and compare it with the estate's registry; unless dry_run, write it in full or not at all."""
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    parsed = await asyncio.to_thread(parse_roster, data, filename)
    if parsed.errors and not dry_run:
        raise _refuse(parsed.errors)
    if not dry_run:
        # Two uploads at once would both see an owner missing and both add them.
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"roster:{estate_id}"})
    plan = _Plan(estate_id=estate_id, existing=await _load(session, estate_id), write=not dry_run)
    for rows in _by_unit(parsed.rows):
        _plan_unit(plan, rows)
    report = _report(parsed, plan, dry_run=dry_run)
    if not dry_run:
        await _write(session, plan)
        after = {"filename": _clean(filename), **report.model_dump(exclude={"errors", "error_count", "dry_run"})}
        await record(session, actor=actor, action="roster.import", entity="estate", entity_id=estate_id,
                     estate_id=estate_id, after=after)
    return report


def _clean(filename: str) -> str:
    return "".join(ch for ch in filename if ch.isprintable())[:200]
