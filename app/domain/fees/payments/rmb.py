"""An amount in capital Chinese numerals (人民币大写), as written on receipts and cheques.

Mainland receipts use the simplified capitals 零壹贰叁肆伍陆柒捌玖 拾佰仟 万亿 元角分整:
160.56 -> 壹佰陆拾元伍角陆分, 1000.00 -> 壹仟元整, 10.05 -> 壹拾元零伍分, 0.50 -> 伍角.
A run of zeros inside the yuan is written as one 零; 整 closes an amount with no 角 or 分
(1000.00 -> 壹仟元整), and an amount of 角 only stops at 角 (0.50 -> 伍角). The 零 between
元 and 角 that the rules leave optional is not written (1680.32 -> 壹仟陆佰捌拾元叁角贰分).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")
LIMIT = Decimal(10) ** (4 * len(GROUPS))


def _group(value: int) -> str:
    """0 < value < 10000, without leading 零."""
    out: list[str] = []
    pending_zero = False
    for place in range(3, -1, -1):
        digit = value // 10**place % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append(DIGITS[0])
            pending_zero = False
        out.append(DIGITS[digit] + PLACES[place])
    return "".join(out)


def yuan_words(value: int) -> str:
    """The whole yuan, e.g. 100500 -> 壹拾万零伍佰; 0 -> ''."""
    groups = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    out: list[str] = []
    pending_zero = False
    for index in range(len(groups) - 1, -1, -1):
        part = groups[index]
        if part == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or part < 1000):
            out.append(DIGITS[0])
        out.append(_group(part) + GROUPS[index])
        pending_zero = False
    return "".join(out)


def capital(amount: Decimal | str | int) -> str:
    """160.56 -> 壹佰陆拾元伍角陆分. Refuses negatives, NaN, more than two decimals."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"not an amount: {amount!r}") from None
    if not value.is_finite() or value < 0 or value >= LIMIT:
        raise ValueError(f"not an amount that can be written: {amount!r}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"more than two decimals: {amount!r}")
    cents = int(value * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    head = yuan_words(yuan)
    text = head + "元" if head else ""
    if jiao == 0 and fen == 0:
        return (text or "零元") + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif head:
        text += DIGITS[0]  # 10.05: 壹拾元零伍分
    if fen:
        text += DIGITS[fen] + "分"
    return text
