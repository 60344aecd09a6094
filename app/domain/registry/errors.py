"""Named errors of the registry (業主名冊)."""
from __future__ import annotations

from app.domain.errors import AlreadyExists, Conflict, Forbidden, Invalid, NotFound


class EstateNotFound(NotFound):
    title = "Estate not found"


class EstateCodeTaken(AlreadyExists):
    title = "Another estate of the company uses this code"


class EstateClosed(Conflict):
    title = "The estate is closed: its history can be read, but nothing new is recorded in it"


class OfficeHoursOutOfOrder(Invalid):
    title = "Office hours must run morning open < morning close <= afternoon open < afternoon close"


class JurisdictionNotFound(NotFound):
    title = "Jurisdiction not found"


class JurisdictionNameTaken(AlreadyExists):
    title = "The estate already has a jurisdiction of this name"


class JurisdictionsNeedSupervisor(Forbidden):
    title = "Only a supervisor or an administrator sets up jurisdictions"


class NotAManagerOfEstate(Invalid):
    title = "manager_id must be a user with the manager role in this estate"


class JurisdictionNotInEstate(Invalid):
    title = "jurisdiction_id names no jurisdiction of this estate"


class BuildingNotFound(NotFound):
    title = "Building not found"


class BuildingNameTaken(AlreadyExists):
    title = "The estate already has a building of this name"


class BuildingNotInEstate(Invalid):
    title = "building_id names no building of this estate"


class UnitNotFound(NotFound):
    title = "Unit not found"


class UnitNumberTaken(AlreadyExists):
    title = "The building already has this room number in this entrance"


class UnitNotInEstate(Invalid):
    title = "unit_id names no unit of the owner's estate"


class OwnerNotFound(NotFound):
    title = "Owner not found"


class UnitAlreadyLinked(AlreadyExists):
    title = "The owner is already linked to this unit"


class UnitNotLinked(NotFound):
    title = "The owner is not linked to this unit"


class PhoneNotFound(NotFound):
    title = "The owner has no such phone"


class PhoneAlreadyListed(AlreadyExists):
    title = "The owner already has this phone number"


class UnreadablePhone(Invalid):
    title = "Not a Chinese mobile or landline number"


class UnreadableUnitRef(Invalid):
    title = "Write the unit as building-entrance-room (8-2-301) or 8号楼2单元301"
