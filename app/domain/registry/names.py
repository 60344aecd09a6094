"""Pure rules of the roster: surnames for the scripts, unit labels, unit references as typed."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.domain.registry.model import Building, Unit

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


def _digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())


def unit_label(*, building_number: int | None, building_name: str, entrance: str, number: str) -> str:
    """8-2-301: building number, entrance digits, room. The entrance part is left out when there is none."""
    building = str(building_number) if building_number is not None else (_digits(building_name) or building_name)
    entrance_part = _digits(entrance) or entrance.strip()
    return "-".join(p for p in (building, entrance_part, number) if p)


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


def place(unit: Unit | None, building: Building | None, location: str = "") -> str:
    """8号楼2单元301 as the office writes it; the location for public areas."""
    if unit is not None and building is not None:
        entrance = f"{unit.entrance}单元" if unit.entrance else ""
        return f"{building.name}{entrance}{unit.number}"
    return location or (building.name if building is not None else "")
