"""The procedure's phone phrases (§7.3.3-7.3.7): default wording, placeholder rules, rendering.

Pure functions: the service gathers the values (office name, caller, address ...) and
these turn a template into the sentence the receptionist reads out.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from string import Formatter
from zoneinfo import ZoneInfo

from app.domain.errors import Invalid
from app.domain.registry.script import Script, in_script
from app.domain.repairs.intake.model import ScriptKey

DEFAULT_TEMPLATES: dict[ScriptKey, str] = {
    ScriptKey.greeting: "您好！{office_name}，請講",
    # The number last, slowly: the caller writes it down to quote when ringing back.
    ScriptKey.confirmation: "{caller}，您報修的{address}{description}，我們將於{appointment}安排維修人員上門，請保持電話{phone}暢通。"
                            "報修單號{number}。",
    ScriptKey.closing: "我們將在約定時間內到達您家進行維修或處理。{caller}，再見。",
    ScriptKey.technician_busy: (
        "{caller}，對不起，我們的維修師傅{technician}現正在{building}維修，我現在就和維修師傅聯系，馬上給您回復確定維修的時間好么？"
    ),
}

_COMMON = frozenset({"office_name", "caller"})
PLACEHOLDERS: dict[ScriptKey, frozenset[str]] = {
    ScriptKey.greeting: _COMMON,
    ScriptKey.confirmation: _COMMON | {"address", "description", "appointment", "phone", "number"},
    ScriptKey.closing: _COMMON | {"appointment", "number"},
    ScriptKey.technician_busy: _COMMON | {"technician", "building"},
}

# What is said when the desk does not know a value yet.
FALLBACKS: dict[str, str] = {
    "office_name": "管理處",
    "caller": "業主",
    "address": "",
    "description": "",
    "appointment": "約定時間",
    "phone": "",
    "number": "",
    "technician": "",
    "building": "別處",
}


class UnknownPlaceholder(Invalid):
    title = "The template uses a placeholder this script does not have"
    title_zh = "模板中使用了本话术没有的占位符"


class MalformedTemplate(Invalid):
    title = "The template's braces do not pair up; write a placeholder as {caller}"
    title_zh = "模板的大括号不配对；占位符请写成 {caller}"


def placeholders_in(text: str) -> list[str]:
    """The placeholders a template uses, in order; MalformedTemplate if it cannot be read."""
    try:
        parts = list(Formatter().parse(text))
    except ValueError as exc:
        raise MalformedTemplate(str(exc), field="text") from None
    names = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        # Format specs and conversions ({caller!r}, {caller:>9}) would let a template reach
        # beyond plain substitution; only bare names are placeholders.
        if spec or conversion or not name.isidentifier():
            raise MalformedTemplate(f"write placeholders as {{name}}, not {{{name}...}}", field="text")
        names.append(name)
    return names


def check_template(key: ScriptKey, text: str) -> None:
    allowed = PLACEHOLDERS[key]
    for name in placeholders_in(text):
        if name not in allowed:
            raise UnknownPlaceholder(
                f"{{{name}}} is not a placeholder of {key.value}; use {', '.join('{' + p + '}' for p in sorted(allowed))}",
                field="text", placeholder=name, allowed=sorted(allowed),
            )


def render(key: ScriptKey, text: str, values: Mapping[str, str | None], *, script: Script) -> tuple[str, list[str]]:
    """The sentence wholly in the estate's characters, and the placeholders that had no value
    (their fallback was said instead)."""
    check_template(key, text)
    missing = [n for n in dict.fromkeys(placeholders_in(text)) if not values.get(n)]
    filled = {n: values.get(n) or FALLBACKS.get(n, "") for n in PLACEHOLDERS[key]}
    # The whole sentence, not just the template: an office name, a building or an owner's name
    # typed in the other form would otherwise mix the two in one sentence.
    return in_script(text.format_map(filled), script), missing


def appointment_phrase(start: datetime | None, end: datetime | None, *, tz: ZoneInfo) -> str | None:
    """11月29日上午 for a half-day window; 11月29日上午9:00-10:00 when the window is narrower."""
    if start is None:
        return None
    local = start.astimezone(tz)
    day = f"{local.month}月{local.day}日{_part_of_day(local.time())}"
    if end is None:
        return day
    if (end - start).total_seconds() >= 3 * 3600:
        return day
    local_end = end.astimezone(tz)
    return f"{day}{local.hour}:{local.minute:02d}-{local_end.hour}:{local_end.minute:02d}"


def _part_of_day(t: time) -> str:
    if t < time(12, 0):
        return "上午"
    if t < time(18, 0):
        return "下午"
    return "晚上"
