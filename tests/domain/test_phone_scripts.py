"""The phone phrases without a database: defaults, placeholder rules, appointment and address wording."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.domain.registry.script import Script
from app.domain.repairs.intake.model import ScriptKey
from app.domain.repairs.intake.scripts import (
    DEFAULT_TEMPLATES,
    PLACEHOLDERS,
    MalformedTemplate,
    UnknownPlaceholder,
    appointment_phrase,
    check_template,
    placeholders_in,
    render,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_defaults_read_as_the_procedure_says():
    t = Script.traditional
    assert render(ScriptKey.greeting, DEFAULT_TEMPLATES[ScriptKey.greeting], {"office_name": "淇水春天管理處"}, script=t)[0] == (
        "您好！淇水春天管理處，請講")
    text, missing = render(
        ScriptKey.confirmation,
        DEFAULT_TEMPLATES[ScriptKey.confirmation],
        {
            "caller": "王先生",
            "address": "8号楼2单元301",
            "description": "水龍頭漏水",
            "appointment": "11月29日上午",
            "number": "QS-BX-2026-000045",
            "phone": "13351737459",
        },
        script=t,
    )
    # §7.3.5: the contact phone is read back with the rest.
    assert text == (
        "王先生，您報修的8號樓2單元301水龍頭漏水，我們將於11月29日上午安排維修人員上門，請保持電話13351737459暢通。"
        "報修單號QS-BX-2026-000045。")
    assert missing == []
    assert render(ScriptKey.closing, DEFAULT_TEMPLATES[ScriptKey.closing], {"caller": "李女士"}, script=t)[0] == (
        "我們將在約定時間內到達您家進行維修或處理。李女士，再見。"
    )
    said = render(ScriptKey.technician_busy, DEFAULT_TEMPLATES[ScriptKey.technician_busy], {"caller": "王先生", "building": "8号楼"},
                  script=t)[0]
    assert said == "王先生，對不起，我們的維修師傅現正在8號樓維修，我現在就和維修師傅聯系，馬上給您回復確定維修的時間好麼？"


def test_defaults_in_simplified_characters():
    s = Script.simplified
    assert render(ScriptKey.greeting, DEFAULT_TEMPLATES[ScriptKey.greeting], {"office_name": "淇水春天管理處"}, script=s)[0] == (
        "您好！淇水春天管理处，请讲")
    text, _ = render(ScriptKey.confirmation, DEFAULT_TEMPLATES[ScriptKey.confirmation],
                     {"caller": "王先生", "address": "8號樓2單元301", "description": "水龍頭漏水", "appointment": "11月29日上午"},
                     script=s)
    assert text == "王先生，您报修的8号楼2单元301水龙头漏水，我们将于11月29日上午安排维修人员上门，请保持电话畅通。报修单号。"
    said = render(ScriptKey.technician_busy, DEFAULT_TEMPLATES[ScriptKey.technician_busy], {"caller": "王先生"}, script=s)[0]
    assert said == "王先生，对不起，我们的维修师傅现正在别处维修，我现在就和维修师傅联系，马上给您回复确定维修的时间好么？"


def test_every_default_uses_only_its_own_placeholders():
    for key, text in DEFAULT_TEMPLATES.items():
        check_template(key, text)
        assert set(placeholders_in(text)) <= PLACEHOLDERS[key]


def test_missing_values_get_a_neutral_word_and_are_reported():
    text, missing = render(ScriptKey.confirmation, DEFAULT_TEMPLATES[ScriptKey.confirmation], {"description": "門鎖壞了", "caller": ""},
                           script=Script.traditional)
    assert text == "業主，您報修的門鎖壞了，我們將於約定時間安排維修人員上門，請保持電話暢通。報修單號。"
    assert missing == ["caller", "address", "appointment", "phone", "number"]
    text, missing = render(ScriptKey.technician_busy, "師傅在{building}", {}, script=Script.traditional)
    assert (text, missing) == ("師傅在別處", ["building"])


@pytest.mark.parametrize("text,name", [("{owner}您好", "owner"), ("{building}", "building"), ("{caller}{phone}", "phone")])
def test_unknown_placeholder_is_named(text, name):
    key = ScriptKey.closing
    with pytest.raises(UnknownPlaceholder) as err:
        check_template(key, text)
    assert err.value.extra["placeholder"] == name and err.value.extra["field"] == "text"


@pytest.mark.parametrize("text", ["{caller", "caller}", "{}", "{0}", "{caller.__class__}", "{caller!r}", "{caller:>30}", "{caller[0]}"])
def test_malformed_or_reaching_templates_are_refused(text):
    with pytest.raises((MalformedTemplate, UnknownPlaceholder)):
        check_template(ScriptKey.closing, text)


def test_doubled_braces_are_literal():
    assert render(ScriptKey.greeting, "{{{office_name}}}", {"office_name": "管理處"}, script=Script.traditional)[0] == "{管理處}"


def test_values_cannot_inject_placeholders():
    assert render(ScriptKey.closing, "{caller}再見", {"caller": "{office_name}"}, script=Script.traditional)[0] == "{office_name}再見"


@pytest.mark.parametrize(
    "start,end,said",
    [
        (datetime(2024, 11, 29, 0, 0, tzinfo=UTC), datetime(2024, 11, 29, 4, 0, tzinfo=UTC), "11月29日上午"),
        (datetime(2024, 11, 29, 6, 0, tzinfo=UTC), datetime(2024, 11, 29, 10, 0, tzinfo=UTC), "11月29日下午"),
        (datetime(2024, 11, 29, 1, 0, tzinfo=UTC), datetime(2024, 11, 29, 2, 0, tzinfo=UTC), "11月29日上午9:00-10:00"),
        (datetime(2024, 11, 29, 11, 30, tzinfo=UTC), datetime(2024, 11, 29, 12, 30, tzinfo=UTC), "11月29日晚上19:30-20:30"),
        # Late evening UTC is the next morning in Shanghai: the date is the estate's.
        (datetime(2024, 11, 28, 23, 0, tzinfo=UTC), datetime(2024, 11, 29, 3, 0, tzinfo=UTC), "11月29日上午"),
    ],
)
def test_appointment_in_the_estates_time_zone(start, end, said):
    assert appointment_phrase(start, end, tz=SHANGHAI) == said


def test_no_window_no_appointment():
    assert appointment_phrase(None, None, tz=SHANGHAI) is None
