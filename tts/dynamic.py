"""Texts for prompts made during a call: numbers, queue positions, waits, ticket numbers.

Pure functions producing Simplified Chinese for the synthesiser.  Numbers that
people key in or write down (phone and ticket numbers) are read digit by
digit, with 幺 for 1 as Chinese telephony does; counts are read as numbers.
"""

from __future__ import annotations

_DIGITS = "零一二三四五六七八九"
_SPOKEN_DIGITS = "零幺二三四五六七八九"


def digit_by_digit(text: str) -> str:
    """``GD12345-20261128-000123`` → letters and digits read one by one."""
    spoken = []
    for char in text:
        if char.isdigit():
            spoken.append(_SPOKEN_DIGITS[int(char)])
        elif char.isascii() and char.isalpha():
            spoken.append(char.upper())
        elif char in "-_ ":
            spoken.append("，")
    return "".join(spoken).strip("，")


def count(number: int) -> str:
    """A count in Chinese numerals (0 ≤ number < 100 000 000), e.g. 25 → 二十五."""
    if not 0 <= number < 100_000_000:
        raise ValueError(f"cannot read {number} as a count")
    if number == 0:
        return "零"
    if number >= 10_000:
        high, low = divmod(number, 10_000)
        rest = "" if low == 0 else ("零" if low < 1000 else "") + count(low)
        return count(high) + "万" + rest
    units = [(1000, "千"), (100, "百"), (10, "十")]
    text, zero_pending = "", False
    for value, unit in units:
        digit, number = divmod(number, value)
        if digit:
            text += ("零" if zero_pending else "") + _DIGITS[digit] + unit
            zero_pending = False
        elif text:
            zero_pending = True
    if number:
        text += ("零" if zero_pending else "") + _DIGITS[number]
    if text.startswith("一十"):
        text = text[1:]  # 十五, not 一十五
    return text


def queue_position(position: int) -> str:
    if position <= 1:
        return "您是下一位，请稍候。"
    return f"您前面还有{count(position - 1)}位来电，请稍候。"


def minutes_to_wait(minutes: int) -> str:
    if minutes <= 1:
        return "预计等待时间不超过一分钟。"
    return f"预计等待时间约{count(minutes)}分钟。"


def ticket_number(number: str) -> str:
    return f"您的工单编号是：{digit_by_digit(number)}。"
