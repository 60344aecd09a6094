"""Reading the office's roster (業主名冊一覽表) as it is kept: pure, no database.

bytes + filename -> the roster's rows and, row by row, what could not be read. Row numbers
are the ones the user sees in the spreadsheet, columns are named by the file's own header.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.domain.errors import Invalid
from app.domain.registry.model import Title
from app.domain.registry.names import derive_surname
from app.domain.registry.phones import normalize_phone, split_phones


class RosterUnreadable(Invalid):
    title = "The file cannot be read as a roster"
    title_zh = "文件无法读取为业主名册"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    problem: str


@dataclass(frozen=True)
class Phone:
    phone: str  # normalised: what a caller id shows
    raw: str  # as typed


@dataclass(frozen=True)
class RosterRow:
    row: int
    building: str
    building_number: int | None
    entrance: str
    room: str
    floor: int | None
    area: Decimal | None  # None when a later row of the same unit leaves it blank
    full_name: str  # "" for a unit without an owner
    surname: str
    title: Title | None
    phones: tuple[Phone, ...]
    note: str  # the 备注 without the 共有人 / 空置 markers
    co_owner: bool
    vacant: bool

    @property
    def unit_key(self) -> tuple[str, str, str]:
        return (self.building, self.entrance, self.room)


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0


# --- the header ---------------------------------------------------------------------------

# Simplified and traditional spellings offices use; compared after NFKC, without spaces
# and without a unit in brackets (建筑面积(㎡)).
HEADERS: dict[str, tuple[str, ...]] = {
    "building": ("楼号", "樓號", "楼栋", "樓棟", "栋号", "棟號", "楼栋号", "樓棟號", "楼宇", "樓宇", "楼座", "樓座"),
    "entrance": ("单元", "單元", "单元号", "單元號"),
    "room": ("房号", "房號", "房间号", "房間號", "室号", "室號", "门牌号", "門牌號", "户号", "戶號"),
    "area": ("建筑面积", "建築面積", "面积", "面積", "房屋面积", "房屋面積", "产权面积", "產權面積"),
    "name": ("业主姓名", "業主姓名", "业主", "業主", "姓名", "业主名称", "業主名稱"),
    "gender": ("性别", "性別"),
    "phone": ("联系电话", "聯繫電話", "聯系電話", "电话", "電話", "手机", "手機", "手机号", "手機號",
              "联系方式", "聯繫方式", "电话号码", "電話號碼"),
    "note": ("备注", "備註", "備注"),
}
_HEADER_OF = {spelling: key for key, spellings in HEADERS.items() for spelling in spellings}
REQUIRED = ("building", "room", "area")
HEADER_SEARCH_ROWS = 20
MAX_ROWS = 50_000
MAX_COLUMNS = 60
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")


def _header_key(cell: str) -> str | None:
    text = _BRACKETED.sub("", unicodedata.normalize("NFKC", cell))
    return _HEADER_OF.get(re.sub(r"[\s:：*]", "", text))


def find_columns(cells: list[str]) -> dict[str, tuple[int, str]] | None:
    """key -> (column index, header as written), when the row is the roster's header."""
    columns: dict[str, tuple[int, str]] = {}
    for i, cell in enumerate(cells):
        key = _header_key(cell)
        if key and key not in columns:
            columns[key] = (i, cell.strip())
    return columns if all(k in columns for k in REQUIRED) else None


# --- reading cells ------------------------------------------------------------------------

_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def cell_text(value: object) -> str:
    """A cell as text: Excel's 501.0 is '501', its 13351737459.0 is '13351737459'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, float):
        value = Decimal(repr(value))
    return str(value).translate(_CONTROL).strip()


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


_CN_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9", "十": "10"}
_BUILDING_NUMBER = re.compile(r"\d+")
_ENTRANCE_SUFFIX = re.compile(r"(单元|單元|门|門)$")
_ROOM_SUFFIX = re.compile(r"(室|号|號)$")
_AREA_SUFFIX = re.compile(r"(平方米|平米|平方|m2|m\^2|sqm)$", re.IGNORECASE)


def parse_building(text: str) -> tuple[str, int | None]:
    """'3号楼' -> ('3号楼', 3); a bare '3' -> ('3号楼', 3)."""
    name = re.sub(r"\s+", "", _nfkc(text))
    if not name:
        raise ValueError("the building is empty")
    if name.isdigit():
        name = f"{int(name)}号楼"
    if len(name) > 40:
        raise ValueError("the building name is longer than 40 characters")
    number = _BUILDING_NUMBER.search(name)
    return name, int(number.group()) if number and len(number.group()) < 9 else None


def parse_entrance(text: str) -> str:
    """'2单元' -> '2', '二单元' -> '2', '' -> '' (a building with one entrance)."""
    entrance = _ENTRANCE_SUFFIX.sub("", re.sub(r"\s+", "", _nfkc(text)))
    entrance = _CN_DIGITS.get(entrance, entrance)
    if entrance.isdigit():
        entrance = str(int(entrance))
    if len(entrance) > 20:
        raise ValueError("the entrance is longer than 20 characters")
    return entrance


def parse_room(text: str) -> tuple[str, int | None]:
    """'501' -> ('501', 5), '1203室' -> ('1203', 12)."""
    room = _ROOM_SUFFIX.sub("", re.sub(r"\s+", "", _nfkc(text)))
    if not room:
        raise ValueError("the room number is empty")
    if len(room) > 20:
        raise ValueError("the room number is longer than 20 characters")
    digits = "".join(ch for ch in room if ch.isdigit())
    floor = int(digits[:-2]) if 3 <= len(digits) <= 6 else None
    return room, floor or None


def parse_area(text: str) -> Decimal | None:
    """'89.2', '89.2㎡', '89.2平方米' -> Decimal('89.20'); '' -> None."""
    raw = re.sub(r"\s+", "", _nfkc(text))
    if not raw:
        return None
    try:
        area = Decimal(_AREA_SUFFIX.sub("", raw).replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"cannot read the area '{text}'; write it as 89.2, 89.2㎡ or 89.2平方米") from None
    if not area.is_finite() or not 0 < area < 100_000_000:
        raise ValueError(f"the area '{text}' is not a positive number of square metres")
    return area.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_name(text: str) -> str:
    name = _nfkc(text)
    if not name.isascii():
        name = re.sub(r"\s+", "", name)  # 王 建国 -> 王建国
    if len(name) > 100:
        raise ValueError("the name is longer than 100 characters")
    return name


_TITLES = {"男": Title.mr, "先生": Title.mr, "m": Title.mr, "male": Title.mr,
           "女": Title.ms, "女士": Title.ms, "f": Title.ms, "female": Title.ms}


def parse_title(text: str) -> Title | None:
    """性别 -> how the scripts address the owner: 男 -> 先生, 女 -> 女士."""
    key = _nfkc(text).lower()
    if not key:
        return None
    if key not in _TITLES:
        raise ValueError(f"cannot read the gender '{text}'; write 男 or 女")
    return _TITLES[key]


def parse_phones(text: str) -> tuple[Phone, ...]:
    phones: dict[str, Phone] = {}
    for part in split_phones(text):
        number = normalize_phone(part)
        if number is None:
            raise ValueError(f"cannot read the phone number '{part}'")
        phones.setdefault(number, Phone(phone=number, raw=part[:60]))
    return tuple(phones.values())


_CO_OWNER = re.compile(r"共有人|共有|共同业主|共同業主")
_VACANT = re.compile(r"空置|空房")


def parse_note(text: str) -> tuple[str, bool, bool]:
    """备注 -> (what is left to keep, co-owner?, vacant?)."""
    note = _nfkc(text)
    co_owner, vacant = bool(_CO_OWNER.search(note)), bool(_VACANT.search(note))
    rest = _VACANT.sub("", _CO_OWNER.sub("", note)).strip(" ,，;；、/")
    if len(rest) > 200:
        raise ValueError("the note is longer than 200 characters")
    return rest, co_owner, vacant


# --- one row ------------------------------------------------------------------------------

# A row with one of these and no room is the signature or totals block under the table.
_TRAILER = re.compile(r"制表|製表|审核|審核|复核|複核|填表|负责人|負責人|经办|經辦|签字|簽字|签名|簽名|盖章|蓋章|"
                      r"日期|打印|合计|合計|总计|總計|小计|小計")


class _Cells:
    """One row's cells by column key, collecting the problems of the cells it parses."""

    def __init__(self, row: int, cells: list[str], columns: dict[str, tuple[int, str]]) -> None:
        self.row = row
        self.errors: list[RowError] = []
        self.text = {key: cells[i] if i < len(cells) else "" for key, (i, _) in columns.items()}
        self.header = {key: header for key, (_, header) in columns.items()}

    def get(self, key: str, parse: Callable[[str], Any], default: Any = None) -> Any:
        try:
            return parse(self.text.get(key, ""))
        except ValueError as exc:
            self.error(key, str(exc))
            return default

    def error(self, key: str, problem: str) -> None:
        self.errors.append(RowError(row=self.row, column=self.header.get(key, key), problem=problem))


def is_trailer(cells: Iterable[str], room: str) -> bool:
    return not room and any(_TRAILER.search(c) for c in cells)


def read_row(row: int, cells: list[str], columns: dict[str, tuple[int, str]]) -> tuple[RosterRow | None, list[RowError]]:
    c = _Cells(row, cells, columns)
    building, number = c.get("building", parse_building, ("", None))
    room, floor = c.get("room", parse_room, ("", None))
    full_name = c.get("name", parse_name, "")
    note, co_owner, vacant = c.get("note", parse_note, ("", False, False))
    phones = c.get("phone", parse_phones, ())
    title = c.get("gender", parse_title)
    if phones and not full_name:
        c.error("phone", "a phone number is given but no owner's name")
    result = RosterRow(
        row=row, building=building, building_number=number, entrance=c.get("entrance", parse_entrance, ""),
        room=room, floor=floor, area=c.get("area", parse_area), full_name=full_name, surname=derive_surname(full_name),
        title=title if full_name else None, phones=phones, note=note, co_owner=co_owner and bool(full_name),
        vacant=vacant,
    )
    position = {header: i for i, header in columns.values()}
    return (None if c.errors else result), sorted(c.errors, key=lambda e: position.get(e.column, 0))


# --- across rows: one unit on several rows ------------------------------------------------

def check_units(rows: list[RosterRow], columns: dict[str, tuple[int, str]]) -> tuple[list[RosterRow], list[RowError]]:
    """Co-owner rows repeat (or leave blank) the unit's area; each unit needs one area."""
    area_header = columns["area"][1]
    first: dict[tuple[str, str, str], RosterRow] = {}
    out, errors = [], []
    for r in rows:
        seen = first.get(r.unit_key)
        if seen is None:
            first[r.unit_key] = r
        elif seen.area is None and r.area is not None:
            first[r.unit_key] = replace(seen, area=r.area)
        elif r.area is not None and seen.area is not None and r.area != seen.area:
            errors.append(RowError(r.row, area_header, f"the area {r.area} differs from {seen.area} on row {seen.row} for the same unit"))
        out.append(r)
    for r in first.values():
        if r.area is None:
            errors.append(RowError(r.row, area_header, "the area is empty"))
    areas = {key: r.area for key, r in first.items()}
    return [replace(r, area=areas[r.unit_key]) for r in out], errors
