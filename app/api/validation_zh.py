"""Pydantic's per-field messages in Chinese, for the common error types.

Keyed by pydantic's error `type` (stable across versions, unlike its English `msg`); values
are templates over the error's `ctx`. Our own checks' sentences are looked up by their English
text. Anything else keeps its English sentence after a Chinese lead, so a reader still sees
that the value was refused and why.
"""
from __future__ import annotations

from typing import Any

_NUMBER = "应为数字"
_INTEGER = "应为整数"
_DATE = "应为有效日期（如 2026-11-30）"
_DATETIME = "应为有效的日期时间（如 2026-11-30T09:30:00+08:00）"
_UUID = "应为有效的 UUID"

MESSAGES: dict[str, str] = {
    "missing": "必填项，不能缺少",
    "extra_forbidden": "不接受此字段",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": _INTEGER,
    "int_type": _INTEGER,
    "int_from_float": _INTEGER,
    "int_parsing_size": "数值超出范围",
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "finite_number": "应为有限的数字",
    "decimal_max_places": "最多 {decimal_places} 位小数",
    "decimal_max_digits": "最多 {max_digits} 位数字",
    "decimal_whole_digits": "整数部分最多 {whole_digits} 位",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "应为日期，不带时间",
    "datetime_parsing": _DATETIME,
    "datetime_type": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "timezone_aware": "应带时区",
    "time_parsing": "应为有效时间（如 09:30）",
    "time_type": "应为有效时间（如 09:30）",
    "uuid_parsing": _UUID,
    "uuid_type": _UUID,
    "uuid_version": _UUID,
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "url_parsing": "应为有效的网址",
    "url_scheme": "网址协议不被接受",
}


# The sentences of our own exact-input checks (app/domain/types.py) and other fixed ones, by
# their English text: they come as pydantic's value_error (or our inexact_input) with that msg.
SENTENCES: dict[str, str] = {
    "must not contain NUL characters": "不能包含 NUL 字符",
    "must be a plain decimal number such as 12.50 (ASCII digits, no exponent or separators)":
        "应为普通小数，如 12.50（半角数字，不用科学计数法或千位分隔符）",
    "must be a date written YYYY-MM-DD": "应为 YYYY-MM-DD 格式的日期",
    "must be an ISO 8601 date and time with a UTC offset, such as 2026-12-03T09:30:00+08:00":
        "应为带时区偏移的 ISO 8601 日期时间，如 2026-12-03T09:30:00+08:00",
    "must be a time written HH:MM": "应为 HH:MM 格式的时间",
    "must be true or false": "应为 true 或 false",
    "must be a whole number (a JSON integer, not a string or 8.0)": "应为整数（JSON 整数，不能是字符串或 8.0）",
    "must be a whole number written with ASCII digits": "应为用半角数字书写的整数",
    "must not be zero": "不能为零",
    "amount must be more than 0": "金额必须大于 0",
    "to_month is before from_month": "to_month 早于 from_month",
    "end must come after start": "结束时间必须晚于开始时间",
    "window_end must come after window_start": "window_end 必须晚于 window_start",
    "the day must be in the years 2000-2099": "日期必须在 2000 至 2099 年之间",
    "charge_ids must not repeat a charge": "charge_ids 中不能重复同一笔费用",
    "earmarks must not repeat a fee item": "earmarks 中不能重复同一个收费项目",
    "earmarks add up to more than the amount": "earmarks 的合计超过了金额",
}
_VALUE_ERROR = "Value error, "


def field_message(error: dict[str, Any]) -> str:
    """The Chinese message of one pydantic error."""
    kind = str(error.get("type"))
    if kind == "null_not_allowed":
        return "不能为 null"
    template = MESSAGES.get(kind)
    if template is None:
        sentence = str(error.get("msg", "")).removeprefix(_VALUE_ERROR)
        return SENTENCES.get(sentence) or f"取值无效：{sentence}"
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        # A ctx without the member the template names: the sentence without the number.
        return template.split("{")[0].rstrip() or "取值无效"
