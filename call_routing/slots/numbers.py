"""Numbers as callers say them: digits read out one by one (幺三八…, 洞 for 0)
and Chinese numerals (二十三, 两千零二十六), for the phone, address and time slots."""

from __future__ import annotations

# Digits as they are read out one by one (幺 for 1, 两 for 2, 洞 for 0, 拐 for 7, 勾 for 9).
SPOKEN_DIGITS: dict[str, str] = {
    **{d: d for d in "0123456789"},
    **dict(zip("壹贰叁肆伍陆柒捌玖", "123456789", strict=True)),
    **dict.fromkeys("零〇○洞", "0"),
    **dict.fromkeys("一幺妖", "1"),
    **dict.fromkeys("二两", "2"),
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    **dict.fromkeys("七拐", "7"),
    "八": "8",
    **dict.fromkeys("九勾", "9"),
    **dict.fromkeys("Xx叉", "X"),
}

# Chinese numerals, and a number as said in an address or a time (12, 十二).
_CN_NUM = "零〇一二两三四五六七八九十百千万"
_NUM = rf"(?:\d{{1,4}}|[{_CN_NUM}]{{1,6}})"


def cn_number(said: str) -> int | None:
    """二十三 → 23, 两千零二十六 → 2026, 二零二六 → 2026, 385 → 385; None if not a number."""
    if not said:
        return None
    if said.isdigit():
        return int(said)
    if all(c in SPOKEN_DIGITS and SPOKEN_DIGITS[c] != "X" for c in said):
        return int("".join(SPOKEN_DIGITS[c] for c in said))
    units = {"十": 10, "百": 100, "千": 1000, "万": 10000}
    total = section = digit = 0
    for char in said:
        if char in units:
            unit = units[char]
            if unit == 10000:
                total, section = (total + section + digit) * unit, 0
            else:
                section += (digit or 1) * unit
            digit = 0
        elif char in SPOKEN_DIGITS and SPOKEN_DIGITS[char].isdigit():
            digit = int(SPOKEN_DIGITS[char])
        else:
            return None
    return total + section + digit
