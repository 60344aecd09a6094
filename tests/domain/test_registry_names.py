"""Pure rules of the roster: surnames, how owners are addressed, unit labels and references."""
import pytest

from app.domain.registry.names import UnitRef, addressed_as, derive_surname, parse_unit_ref, unit_label


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


@pytest.mark.parametrize(("kw", "label"), [
    ({"building_number": 8, "building_name": "8号楼", "entrance": "2", "number": "301"}, "8-2-301"),
    ({"building_number": 8, "building_name": "8号楼", "entrance": "2单元", "number": "301"}, "8-2-301"),
    ({"building_number": 8, "building_name": "8号楼", "entrance": "", "number": "301"}, "8-301"),
    ({"building_number": None, "building_name": "12号楼", "entrance": "1", "number": "1201"}, "12-1-1201"),
    ({"building_number": None, "building_name": "會所", "entrance": "", "number": "1"}, "會所-1"),
])
def test_unit_label(kw, label):
    assert unit_label(**kw) == label


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
