"""No sentence the app writes mixes simplified and traditional characters.

Every phone script and owner notification is rendered for both of an estate's choices, with
values typed in either form and with none (the fallback words), and checked two ways: against a
list of character pairs kept here, independent of the converter, and against OpenCC itself.
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.domain.notifications import templates
from app.domain.registry.names import unit_label
from app.domain.registry.script import Script, in_script
from app.domain.repairs.intake import scripts
from app.domain.repairs.intake.model import ScriptKey
from tests.helpers.characters import assert_one_script

# Values as the desk meets them: some typed in simplified, some in traditional.
SHANGHAI = ZoneInfo("Asia/Shanghai")
WHEN = scripts.appointment_phrase(datetime(2026, 11, 29, 1, tzinfo=UTC), datetime(2026, 11, 29, 2, tzinfo=UTC), tz=SHANGHAI)
MIXED_VALUES: dict[str, str | None] = {
    "office_name": "淇水春天管理處", "office": "淇水春天管理处", "caller": "歐陽先生", "owner": "张先生",
    "address": "8號樓2单元301", "description": "卫生间水龍頭漏水", "appointment": WHEN, "phone": "13351737459",
    "building": "5号楼", "amount": "160.56", "receipt_number": "QS-2026-000001", "code": "493027", "valid_until": "12月03日18:00",
}


@pytest.mark.parametrize("script", list(Script))
@pytest.mark.parametrize("key", list(ScriptKey))
@pytest.mark.parametrize("values", [MIXED_VALUES, {}], ids=["typed-either-way", "fallbacks"])
def test_every_phone_script_is_wholly_in_one_script(script, key, values):
    text, _ = scripts.render(key, scripts.DEFAULT_TEMPLATES[key], values, script=script)
    assert_one_script(text, script)


@pytest.mark.parametrize("script", list(Script))
@pytest.mark.parametrize("event", list(templates.DEFAULTS))
@pytest.mark.parametrize("values", [MIXED_VALUES, {}], ids=["typed-either-way", "fallbacks"])
def test_every_notification_is_wholly_in_one_script(script, event, values):
    assert_one_script(templates.render(event, templates.DEFAULTS[event], values, script=script), script)


@pytest.mark.parametrize("script", list(Script))
def test_an_estates_own_wording_comes_out_in_its_script(script):
    # 「別處」 in an otherwise simplified sentence, 「单元」 with 「處」: what the defaults once said.
    text, _ = scripts.render(ScriptKey.technician_busy, "{caller}，师傅正在{building}，别處单元", {}, script=script)
    assert_one_script(text, script)


@pytest.mark.parametrize("script", list(Script))
@pytest.mark.parametrize(("name", "entrance", "number"), [("8号楼", "2單元", "301室"), ("8號樓", "2", "301"), ("會所", "", "1")])
def test_unit_labels_are_wholly_in_one_script(script, name, entrance, number):
    assert_one_script(unit_label(building_name=name, building_number=None, entrance=entrance, number=number, script=script), script)


def test_the_check_catches_a_mixed_sentence():
    with pytest.raises(AssertionError, match="mixes"):
        assert_one_script("我们的维修师傅现正在別處维修", Script.simplified)
    with pytest.raises(AssertionError, match="mixes"):
        assert_one_script("我們的維修師傅現正在8号樓維修", Script.traditional)


def test_in_script_leaves_ascii_and_empty_alone():
    assert in_script("", Script.traditional) == "" and in_script("QS-2026-000001", Script.traditional) == "QS-2026-000001"
    assert in_script("8號樓2單元301", "simplified") == "8号楼2单元301"
