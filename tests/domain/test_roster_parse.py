"""Reading the office's roster: the sample files, each kind of cell, and what is refused. No database."""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from app.domain.registry.model import Title
from app.domain.registry.names import derive_surname
from app.domain.registry.roster import (
    RosterUnreadable,
    parse_area,
    parse_building,
    parse_entrance,
    parse_phones,
    parse_room,
    parse_title,
)
from app.domain.registry.roster_file import parse_roster

DATA = Path("/work/shared/data")
HEADER = "楼号,单元,房号,建筑面积,业主姓名,性别,联系电话,备注"


def sample(name: str):
    return parse_roster((DATA / name).read_bytes(), name)


def by_unit(parsed, building: str, entrance: str, room: str) -> list:
    return [r for r in parsed.rows if r.unit_key == (building, entrance, room)]


def csv_bytes(*lines: str, header: str = HEADER, encoding: str = "gb18030") -> bytes:
    return "\r\n".join([header, *lines]).encode(encoding)


# Counted by hand from roster-sample.csv: 162 lines under the header, 3 of them blank;
# 6 buildings x 2 entrances x rooms 101..602 = 144 units; 15 rows say 共有人, 9 say 空置
# (no owner); 150 owners; 12 cells hold two numbers, so 150 + 12 = 162 phones.
@pytest.mark.parametrize("name", ["roster-sample.csv", "roster-sample.xlsx"])
def test_sample_counts(name):
    parsed = sample(name)
    assert parsed.errors == []
    assert parsed.rows_read == 159
    assert len({r.building for r in parsed.rows}) == 6
    assert len({r.unit_key for r in parsed.rows}) == 144
    assert len([r for r in parsed.rows if r.full_name]) == 150
    assert len([r for r in parsed.rows if r.co_owner]) == 15
    assert len([r for r in parsed.rows if r.vacant and not r.full_name]) == 9
    assert sum(len(r.phones) for r in parsed.rows) == 162


def test_csv_rows_are_numbered_as_the_file_and_blank_rows_skipped():
    parsed = sample("roster-sample.csv")
    assert parsed.rows[0].row == 2
    assert 87 not in {r.row for r in parsed.rows}  # the first blank line
    assert parsed.rows[-1].row == 163


def test_xlsx_title_row_and_signature_row():
    parsed = sample("roster-sample.xlsx")
    assert parsed.rows[0].row == 3  # row 1 is the merged title, row 2 the header
    assert parsed.rows[-1].row == 164  # row 165 is 制表人：前台 ... 2026年11月
    assert all(r.building.endswith("号楼") for r in parsed.rows)


def test_sample_rows_read_as_the_office_means_them():
    parsed = sample("roster-sample.csv")
    first = parsed.rows[0]
    assert (first.building, first.building_number, first.entrance, first.room, first.floor) == ("1号楼", 1, "1", "101", 1)
    assert (first.full_name, first.surname, first.title) == ("汤秀", "汤", Title.ms)
    assert [p.phone for p in first.phones] == ["13351737459"]  # typed in full-width digits
    assert first.area == Decimal("112.70")
    assert by_unit(parsed, "1号楼", "1", "102")[0].area == Decimal("89.20")  # 89.2平方米
    assert by_unit(parsed, "1号楼", "1", "201")[0].title == Title.mr
    two = by_unit(parsed, "2号楼", "1", "301")[0]
    assert [p.phone for p in two.phones] == ["13397795327", "17333838222"]
    assert two.note == "车位B-188"
    landline = by_unit(parsed, "2号楼", "1", "302")
    assert [p.phone for p in landline[0].phones] == ["03926540615"]
    assert [r.co_owner for r in landline] == [False, True]
    assert by_unit(parsed, "2号楼", "1", "201")[0].phones[0].phone == "18668103332"  # +86
    vacant = by_unit(parsed, "2号楼", "2", "601")[0]
    assert (vacant.vacant, vacant.full_name, vacant.note, vacant.phones) == (True, "", "", ())
    assert by_unit(parsed, "1号楼", "1", "401")[0].note == "出租"


@pytest.mark.parametrize("text, expected", [("3号楼", ("3号楼", 3)), ("12號樓", ("12號樓", 12)), ("3", ("3号楼", 3)),
                                            (" 8 号楼 ", ("8号楼", 8)), ("A座", ("A座", None))])
def test_building(text, expected):
    assert parse_building(text) == expected


@pytest.mark.parametrize("text, expected", [("2单元", "2"), ("2單元", "2"), ("二单元", "2"), ("", ""), ("02", "2"), ("东", "东")])
def test_entrance(text, expected):
    assert parse_entrance(text) == expected


@pytest.mark.parametrize("text, expected", [("501", ("501", 5)), ("1203", ("1203", 12)), ("1203室", ("1203", 12)),
                                            ("５０１", ("501", 5)), ("B1", ("B1", None))])
def test_room_and_floor(text, expected):
    assert parse_room(text) == expected


@pytest.mark.parametrize("text", ["89.2", "89.2㎡", "89.2平方米", "89.20 m²", "８９．２", "89.2平米"])
def test_area_forms(text):
    assert parse_area(text) == Decimal("89.20")


@pytest.mark.parametrize("text", ["约九十", "89.2.1", "-5", "0", "NaN", "1e12"])
def test_area_unreadable(text):
    with pytest.raises(ValueError):
        parse_area(text)


def test_title_from_gender():
    assert (parse_title("男"), parse_title("女"), parse_title("")) == (Title.mr, Title.ms, None)
    with pytest.raises(ValueError):
        parse_title("未知")


def test_phones():
    assert [p.phone for p in parse_phones("+86 133-5173-7459")] == ["13351737459"]
    assert [p.phone for p in parse_phones("13397795327/13397795327")] == ["13397795327"]
    assert [p.phone for p in parse_phones("0392-6540615，13800138000")] == ["03926540615", "13800138000"]
    with pytest.raises(ValueError):
        parse_phones("12345")


def test_surnames():
    assert (derive_surname("王建國"), derive_surname("欧阳娜娜"), derive_surname("Anna Smith")) == ("王", "欧阳", "Smith")


def test_traditional_headers_and_utf8_with_bom():
    header = "樓號,單元,房號,建築面積,業主姓名,性別,聯繫電話,備註"
    for data in (csv_bytes("3号楼,2单元,501,89.2㎡,王建國,男,138 0013 8000,出租", header=header, encoding="utf-8-sig"),
                 csv_bytes("3号楼,2单元,501,89.2㎡,王建國,男,138 0013 8000,出租", header=header, encoding="utf-8")):
        parsed = parse_roster(data, "roster.csv")
        assert parsed.errors == []
        [row] = parsed.rows
        assert (row.building, row.entrance, row.room, row.floor, row.title, row.note) == ("3号楼", "2", "501", 5, Title.mr, "出租")


def test_errors_name_row_and_column():
    data = csv_bytes(
        "1号楼,1单元,101,约九十,汤秀,女,13351737459,",
        "1号楼,1单元,102,89.2,崔云平,女,12345,",
        "1号楼,1单元,201,89.2,向娟,未知,13800138000,",
        "1号楼,1单元,202,89.2,,,13800138001,",
        "1号楼,1单元,,89.2,梁凡,男,13800138002,",
    )
    parsed = parse_roster(data, "roster.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [
        (2, "建筑面积"), (3, "联系电话"), (4, "性别"), (5, "联系电话"), (6, "房号"),
    ]
    assert "约九十" in parsed.errors[0].problem
    assert parsed.rows == []
    assert parsed.rows_read == 5


def test_co_owner_row_may_leave_the_area_blank_but_not_contradict_it():
    parsed = parse_roster(csv_bytes("1号楼,1单元,202,,秦薇琰,女,,共有人", "1号楼,1单元,202,96.0㎡,梁凡,男,,",
                                    "1号楼,1单元,301,96,姜婉,女,,", "1号楼,1单元,301,97,向娟,女,,共有人"), "r.csv")
    assert [(e.row, e.column) for e in parsed.errors] == [(5, "建筑面积")]
    assert {r.area for r in parsed.rows if r.room == "202"} == {Decimal("96.00")}


def test_unit_with_no_area_anywhere_is_an_error():
    parsed = parse_roster(csv_bytes("1号楼,1单元,202,,梁凡,男,,"), "r.csv")
    assert [(e.row, e.column, e.problem) for e in parsed.errors] == [(2, "建筑面积", "the area is empty")]


def test_xlsx_with_numbers_in_cells():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["淇水春天小区业主名册一览表"])
    sheet.merge_cells("A1:H1")
    sheet.append(HEADER.split(","))
    sheet.append(["8号楼", "2单元", 1203, 89.2, "王建國", "男", 13800138000, None])
    sheet.append([])
    sheet.append(["审核：李娜", None, None, None, None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse_roster(buffer.getvalue(), "名册.xlsx")
    assert parsed.errors == [] and parsed.rows_read == 1
    [row] = parsed.rows
    assert (row.row, row.room, row.floor, row.area, row.phones[0].phone) == (3, "1203", 12, Decimal("89.20"), "13800138000")


@pytest.mark.parametrize("data, name", [
    (bytes(range(256)) * 8, "roster.csv"),
    (b"PK\x03\x04 not really a zip", "roster.xlsx"),
    (b"", "roster.csv"),
    ("名字,电话\n王,138\n".encode("gb18030"), "roster.csv"),  # no 楼号/房号/面积 header
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "roster.xls"),
])
def test_unreadable_files(data, name):
    with pytest.raises(RosterUnreadable):
        parse_roster(data, name)


def test_header_only_file_reads_nothing():
    parsed = parse_roster("樓號,單元,房號,面積,業主,電話\n".encode("gb18030"), "roster.csv")
    assert (parsed.rows, parsed.errors, parsed.rows_read) == ([], [], 0)
