"""The default wording of owner notifications, and rendering with the owner's surname and title.

Pure functions. An estate may replace any text; a replacement may use only the placeholders
of its event, checked when it is saved, so a message never goes out with "{unknown}" in it.
"""
from __future__ import annotations

from collections.abc import Mapping

from app.domain.errors import Invalid
from app.domain.events.model import EventType
from app.domain.registry.script import Script, in_script
from app.domain.repairs.intake.scripts import MalformedTemplate, placeholders_in

__all__ = ["DEFAULTS", "HIDDEN", "PLACEHOLDERS", "MalformedTemplate", "MissingPlaceholder", "UnknownPlaceholder", "check",
           "render"]

_COMMON = {"owner", "office", "address"}
PLACEHOLDERS: dict[EventType, set[str]] = {
    EventType.order_dispatched: _COMMON | {"appointment", "order_number"},
    EventType.order_time_confirmed: _COMMON | {"appointment", "order_number"},
    EventType.order_completed: _COMMON | {"order_number"},
    EventType.payment_received: _COMMON | {"amount", "receipt_number"},
    EventType.account_deducted: _COMMON | {"amount", "receipt_number"},
    EventType.owner_code_issued: _COMMON | {"code", "valid_until", "order_number"},
}
# A message that exists to carry a word must carry it: an estate's wording cannot drop the code.
REQUIRED: dict[EventType, set[str]] = {EventType.owner_code_issued: {"code"}}
HIDDEN = "******"  # a private word (the owner's code) as staff see it in the log
# A dispatch names the time when the desk booked it; a technician's confirmation when he set it.
DEFAULTS: dict[EventType, str] = {
    EventType.order_dispatched: "{owner}您好，{office}已安排维修人员于{appointment}到{address}上门维修（维修单号{order_number}），"
                                "请保持电话畅通。",
    EventType.order_time_confirmed: "{owner}您好，{office}已安排维修人员于{appointment}到{address}上门维修（维修单号{order_number}），"
                                    "请保持电话畅通。",
    EventType.order_completed: "{owner}您好，您报修的{address}维修已完成（维修单号{order_number}）。如仍有问题，请致电{office}。",
    EventType.payment_received: "{owner}您好，您为{address}缴纳的{amount}元已收到，收据号{receipt_number}。{office}",
    EventType.account_deducted: "{owner}您好，{address}的预存款已抵扣物业费用{amount}元，单号{receipt_number}。{office}",
    # The owner gives the code only once the work is done: it is the owner's sign-off, like a signature.
    EventType.owner_code_issued: "{owner}您好，您报修的{address}完工确认码为{code}，请在维修完成、您确认无误后再告诉维修人员，"
                                 "{valid_until}前有效，请勿提前透露。如有疑问请致电{office}。",
}
FALLBACKS = {"owner": "业主", "office": "管理处", "address": "您的房屋", "appointment": "约定时间", "valid_until": "有效期"}


class UnknownPlaceholder(Invalid):
    title = "The template uses a placeholder this notification does not have"
    title_zh = "模板中使用了此通知没有的占位符"


class MissingPlaceholder(Invalid):
    title = "The template leaves out a placeholder this notification must carry"
    title_zh = "模板缺少此通知必须包含的占位符"


def check(event_type: EventType, text: str) -> None:
    allowed, used = PLACEHOLDERS[event_type], set(placeholders_in(text))
    for name in used:
        if name not in allowed:
            raise UnknownPlaceholder(f"{{{name}}} is not a placeholder of {event_type.value}", field="text",
                                     placeholder=name, allowed=sorted(allowed))
    for name in sorted(REQUIRED.get(event_type, set()) - used):
        raise MissingPlaceholder(f"{event_type.value} must say {{{name}}}", field="text", placeholder=name)


def render(event_type: EventType, text: str, values: Mapping[str, str | None], *, script: Script) -> str:
    """The message wholly in the estate's characters, the owner's name and the address included."""
    check(event_type, text)
    return in_script(text.format_map({n: values.get(n) or FALLBACKS.get(n, "") for n in PLACEHOLDERS[event_type]}), script)
