"""Pure rules of the roster: surnames for the scripts, unit labels, unit references as typed."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.domain.registry.model import Building, Unit
from app.domain.registry.script import Script, in_script

# Two-character surnames common enough to meet at the desk; simplified and traditional forms,
# because offices keep rosters in either.
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐", "夏侯",
    "歐陽", "司馬", "諸葛", "東方", "尉遲", "公孫", "長孫",
})


def derive_surname(full_name: str) -> str:
    """王建國 -> 王, 欧阳娜娜 -> 欧阳; a Latin name 'Anna Smith' -> Smith."""
    name = full_name.strip()
    if not name:
        return ""
    if name.isascii():
        return name.split()[-1][:20]
    # A two-character name that is itself a compound surname ("東方") is more likely
    # surname + given name than a surname alone.
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[0]


def addressed_as(*, full_name: str, surname: str, title: str | None) -> str:
    """How the scripts address the owner (§7.3.5): 王先生, 李女士, else the full name."""
    if title and surname:
        return f"{surname}{title}"
    return full_name


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


_ENTRANCE_WORD = re.compile(r"(单元|單元|门|門)$")
_ROOM_WORD = re.compile(r"(室|号|號)$")


def _building_part(name: str, number: int | None) -> str:
    # The name as the office writes it (8号楼, A座, 翠竹轩); a bare number is said as 8号楼.
    name = _compact(name)
    if name.isdigit():
        return f"{int(name)}号楼"
    if name:
        return name
    return f"{number}号楼" if number is not None else ""


def _entrance_part(entrance: str) -> str:
    # Stored as "2" by the roster import and the API, but "2单元" or "东门" when typed that way.
    entrance = _compact(entrance)
    if not entrance or _ENTRANCE_WORD.search(entrance):
        return entrance
    return f"{int(entrance) if entrance.isdigit() else entrance}单元"


def unit_label(*, building_name: str, building_number: int | None, entrance: str, number: str, script: Script) -> str:
    """8号楼2单元301 (8號樓2單元301 in traditional): the one way every list, script, receipt,
    notice, export and notification writes a unit. The entrance is left out when the building has
    one; 「2单元」 and 「301室」 as typed read the same as 「2」 and 「301」."""
    room = _ROOM_WORD.sub("", _compact(number)) or _compact(number)
    # Part by part: the building and the entrance repeat from unit to unit, so their conversion is cached.
    parts = (_building_part(building_name, building_number), _entrance_part(entrance), room)
    return "".join(in_script(p, script) for p in parts)


def place(unit: Unit | None, building: Building | None, location: str = "", *, script: Script) -> str:
    """The unit's label; the location (3号楼电梯厅) or the building for public areas."""
    if unit is not None and building is not None:
        return unit_label(building_name=building.name, building_number=building.number, entrance=unit.entrance,
                          number=unit.number, script=script)
    return in_script(location or (building.name if building is not None else ""), script)


@dataclass(frozen=True)
class UnitRef:
    building: str  # digits of the building: "8"
    entrance: str | None  # digits of the entrance, or None when the reference names none
    room: str


_CHINESE_REF = re.compile(
    r"^(?P<b>\d+)(?:号楼|號樓|号|號|栋|棟|幢|座|楼|樓)"
    r"(?:(?P<e>\d+)(?:单元|單元|门|門))?"
    r"(?P<r>\d+[A-Za-z]?)(?:室|号|號)?$"
)
_DASHED_REF = re.compile(r"^(?P<b>\d+)[-–—/](?:(?P<e>\d+)[-–—/])?(?P<r>\d+[A-Za-z]?)$")


def parse_unit_ref(text: str) -> UnitRef | None:
    """'8-2-301', '8-301', '8号楼2单元301', '８號樓２單元３０１室' -> UnitRef; None if unreadable."""
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
    compact = compact.replace("－", "-").replace("—", "-")
    match = _CHINESE_REF.match(compact) or _DASHED_REF.match(compact)
    if match is None:
        return None
    building = str(int(match["b"]))
    entrance = str(int(match["e"])) if match["e"] else None
    return UnitRef(building=building, entrance=entrance, room=match["r"].upper())
