"""Phone and resident ID numbers (电话, 身份证号), written or read out digit by
digit: runs of digits told apart by length and prefix (mobile, landline, 400/800
service number, ID), masked for summaries; an ID number is checked by its GB 11643
check character and its birth date."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from call_routing.slots.numbers import SPOKEN_DIGITS
from call_routing.slots.results import IdNumber, Phone

# What may stand between spoken digit groups: spaces, dashes, commas, a hesitation.
_DIGIT_GAP = " \t-—–_,，、.。·/()（）嗯呃额"

# ID numbers: ISO 7064 MOD 11-2 weights and check characters (GB 11643).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """ISO 7064 MOD 11-2 check character of an 18-character ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


_DIGIT_CLASS = "".join(sorted(SPOKEN_DIGITS))
_DIGIT_RUN = re.compile(
    rf"\+?[{_DIGIT_CLASS}](?:[{re.escape(_DIGIT_GAP)}]{{0,3}}[{_DIGIT_CLASS}])*"
)
_DIGIT_GROUP = re.compile(rf"[{_DIGIT_CLASS}]+")


def _numbers(text: str) -> tuple[list[Phone], list[IdNumber]]:
    """Phone and ID numbers, written or read out digit by digit."""
    phones: list[Phone] = []
    ids: list[IdNumber] = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [
            (g.start() + run.start(), g.end() + run.start(), _digits(g.group()))
            for g in _DIGIT_GROUP.finditer(run.group())
        ]
        if sum(len(g[2]) for g in groups) < 7:
            continue
        for start, end, digits in _windows(groups):
            found = _classify(digits, text[start:end], (start, end))
            if isinstance(found, Phone):
                phones.append(found)
            elif isinstance(found, IdNumber):
                ids.append(found)
    return phones, ids


def _digits(said: str) -> str:
    return "".join(SPOKEN_DIGITS[c] for c in said)


def _windows(groups: list[tuple[int, int, str]]) -> Iterator[tuple[int, int, str]]:
    """Runs of consecutive digit groups that make a number, left to right: a valid ID
    first, else the longest phone number, else an ID that fails its check."""
    i = 0
    while i < len(groups):
        candidates: list[tuple[int, int, str]] = []  # (preference, j, digits)
        joined = ""
        for j in range(i, len(groups)):
            joined += groups[j][2]
            if len(joined) > 18:
                break
            kind = _kind_of(joined)
            if kind == "id":
                candidates.append((3 if _id_valid(joined) else 1, j, joined))
            elif kind:
                candidates.append((2, j, joined))
        if not candidates:
            i += 1
            continue
        _, j, joined = max(candidates)
        yield groups[i][0], groups[j][1], joined
        i = j + 1


def _kind_of(digits: str) -> str:
    if "X" in digits[:-1]:
        return ""
    if len(digits) == 18 and digits[:17].isdigit():
        return "id"
    if "X" in digits:
        return ""
    if len(digits) == 11 and re.fullmatch(r"1[3-9]\d{9}", digits):
        return "mobile"
    if len(digits) == 13 and re.fullmatch(r"861[3-9]\d{9}", digits):
        return "mobile"
    if len(digits) == 10 and digits[:3] in ("400", "800"):
        return "service"
    if 10 <= len(digits) <= 12 and re.fullmatch(r"0[1-9]\d+", digits):
        return "landline"
    return ""


def _classify(digits: str, said: str, span: tuple[int, int]) -> Phone | IdNumber | None:
    kind = _kind_of(digits)
    if kind == "id":
        masked = digits[:4] + "*" * 10 + digits[-4:]
        return IdNumber(digits, masked, _id_valid(digits), said, span)
    if kind == "mobile":
        digits = digits[-11:]
        return Phone(digits, "mobile", digits[:3] + "****" + digits[-4:], said, span)
    if kind == "service":
        value = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        return Phone(value, "service", value, said, span)
    if kind == "landline":
        area = 3 if digits[1] in "12" else 4
        value = f"{digits[:area]}-{digits[area:]}"
        masked = f"{digits[:area]}-{'*' * (len(digits) - area - 4)}{digits[-4:]}"
        return Phone(value, "landline", masked, said, span)
    return None


def _id_valid(number: str) -> bool:
    if number[0] not in "12345678" or not id_checksum_ok(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2100
