"""Pure rules of the roster: surnames, how owners are addressed, unit labels and references."""
import uuid
from decimal import Decimal

import pytest

from app.domain.registry.model import Building, Unit
from app.domain.registry.names import UnitRef, addressed_as, derive_surname, parse_unit_ref, place, unit_label
from app.domain.registry.script import Script


@pytest.mark.parametrize(("full_name", "surname"), [
    ("王建國", "王"),
    ("李娜", "李"),
    ("欧阳娜娜", "欧阳"),
    ("歐陽修", "歐陽"),
    ("司马光", "司马"),
    ("诸葛亮", "诸葛"),
    ("上官婉儿", "上官"),
    ("东方明", "东方"),
    ("皇甫嵩", "皇甫"),
    ("尉迟恭", "尉迟"),
    ("公孙瓒", "公孙"),
    ("慕容复", "慕容"),
    ("长孙无忌", "长孙"),
    ("令狐冲", "令狐"),
    ("夏侯惇", "夏侯"),
    ("欧敏", "欧"),  # 欧 alone is a surname too
    ("東方", "東"),  # two characters: surname + given name, not a bare compound
    (" 张伟 ", "张"),
    ("Anna Smith", "Smith"),
    ("", ""),
])
def test_derive_surname(full_name, surname):
    assert derive_surname(full_name) == surname


def test_addressed_as_uses_surname_and_title_else_full_name():
    assert addressed_as(full_name="王建國", surname="王", title="先生") == "王先生"
    assert addressed_as(full_name="欧阳娜娜", surname="欧阳", title="女士") == "欧阳女士"
    assert addressed_as(full_name="王建國", surname="王", title=None) == "王建國"


def _label(building_name: str = "8号楼", building_number: int | None = 8, entrance: str = "2", number: str = "301",
           script: Script = Script.simplified) -> str:
    return unit_label(building_name=building_name, building_number=building_number, entrance=entrance, number=number,
                      script=script)


@pytest.mark.parametrize(("kw", "label"), [
    ({}, "8号楼2单元301"),
    # The entrance as the API stores it, as a roster or a person types it, or none at all:
    # 「2单元单元301」 was written when it already said 单元.
    ({"entrance": "2单元"}, "8号楼2单元301"),
    ({"entrance": "2單元"}, "8号楼2单元301"),
    ({"entrance": " 02 "}, "8号楼2单元301"),
    ({"entrance": "２"}, "8号楼2单元301"),
    ({"entrance": ""}, "8号楼301"),
    ({"entrance": "东门"}, "8号楼东门301"),
    # The room with or without 室.
    ({"number": "301室"}, "8号楼2单元301"),
    ({"number": "1201"}, "8号楼2单元1201"),
    ({"number": "301A"}, "8号楼2单元301A"),
    # The building as the office names it; the number only when the name is a bare number or missing.
    ({"building_name": "A座", "building_number": 1}, "A座2单元301"),
    ({"building_name": "12号楼", "building_number": None}, "12号楼2单元301"),
    ({"building_name": "8", "building_number": None}, "8号楼2单元301"),
    ({"building_name": "", "building_number": 8}, "8号楼2单元301"),
    ({"building_name": "8栋", "building_number": 8}, "8栋2单元301"),
    ({"building_name": "會所", "building_number": None, "entrance": "", "number": "1"}, "会所1"),
    # Typed in traditional, written in the estate's characters.
    ({"building_name": "8號樓", "entrance": "2單元", "number": "301室"}, "8号楼2单元301"),
])
def test_unit_label_simplified(kw, label):
    assert _label(**kw) == label


@pytest.mark.parametrize(("kw", "label"), [
    ({}, "8號樓2單元301"),
    ({"entrance": "2单元"}, "8號樓2單元301"),
    ({"entrance": ""}, "8號樓301"),
    ({"number": "301室"}, "8號樓2單元301"),
    ({"building_name": "A座", "building_number": 1}, "A座2單元301"),
    ({"building_name": "会所", "building_number": None, "entrance": "", "number": "1"}, "會所1"),
])
def test_unit_label_traditional(kw, label):
    assert _label(**kw, script=Script.traditional) == label


def test_place_is_the_label_or_the_public_location():
    building = Building(estate_id=uuid.uuid4(), name="8号楼", number=8)
    unit = Unit(estate_id=building.estate_id, building_id=building.id, entrance="2单元", number="301", area=Decimal("89.2"))
    assert place(unit, building, "", script=Script.traditional) == "8號樓2單元301"
    assert place(None, None, "3号楼电梯厅", script=Script.traditional) == "3號樓電梯廳"
    assert place(None, building, "", script=Script.simplified) == "8号楼"


@pytest.mark.parametrize(("text", "ref"), [
    ("8-2-301", UnitRef("8", "2", "301")),
    ("8-301", UnitRef("8", None, "301")),
    ("8号楼2单元301", UnitRef("8", "2", "301")),
    ("8号楼2单元301室", UnitRef("8", "2", "301")),
    ("8號樓2單元301", UnitRef("8", "2", "301")),
    ("８号楼２单元３０１", UnitRef("8", "2", "301")),
    ("8栋301", UnitRef("8", None, "301")),
    (" 8 - 2 - 301 ", UnitRef("8", "2", "301")),
    ("08-02-301", UnitRef("8", "2", "301")),
    ("8－2－301", UnitRef("8", "2", "301")),
])
def test_parse_unit_ref(text, ref):
    assert parse_unit_ref(text) == ref


@pytest.mark.parametrize("text", ["", "王", "8", "8-2-3-4", "号楼301", "abc-def"])
def test_parse_unit_ref_refuses_what_it_cannot_read(text):
    assert parse_unit_ref(text) is None
