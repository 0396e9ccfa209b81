"""Addresses (地址): provinces, cities and districts from the tables of places
(天河 → 天河区, its city and province filled in), streets, communities, roads and
landmarks by their suffixes, buildings and rooms by their numbers; the parts said
close together make one address."""

from __future__ import annotations

import re

from call_routing.places import (
    AMBIGUOUS_SHORT,
    CITY_OF_DISTRICT,
    GUANGDONG,
    PROVINCE_OF_CITY,
    PROVINCES,
    short_name,
)
from call_routing.slots.numbers import _NUM
from call_routing.slots.results import LEVELS, Address, AddressPart
from call_routing.slots.spans import _free_segments, _overlaps
from call_routing.slots.vocabulary import _LEAD_TRIM, _NAME_CHAR, _NOT_PLACES

MUNICIPALITIES = frozenset(("北京市", "天津市", "上海市", "重庆市"))

_STREET_SUFFIX = "街道办事处|街道办|街道|镇|乡"
_COMMUNITY_SUFFIX = "社区居委会|社区|居委会|村委会|村"
_ROAD_SUFFIX = "大道|大街|路|街|巷"
_LANDMARK_SUFFIX = (
    "小区|花园|广场|大厦|公寓|新村|家园|山庄|公园|医院|卫生院|学校|小学|中学|大学|"
    "幼儿园|地铁站|公交站|火车站|高铁站|汽车站|客运站|菜市场|市场|商场|酒店|大楼|苑"
)
_LANDMARK_RELATION = (
    "附近|旁边|边上|门口|对面|后面|前面|楼下|隔壁|周边|里面|[A-Za-z]?\\d?号?出口|[东南西北]门"
)

_PLACE_NAMES: dict[str, tuple[str, str]] = {}  # as said → (level, normalised)


def _place_names() -> dict[str, tuple[str, str]]:
    if _PLACE_NAMES:
        return _PLACE_NAMES
    names: dict[str, tuple[str, str]] = {}
    for province, capital in PROVINCES.items():
        names[province] = ("province", province)
        names.setdefault(short_name(province), ("province", province))
        if province != capital:
            names[capital] = ("city", capital)
            names.setdefault(short_name(capital), ("city", capital))
    names["内蒙"] = ("province", "内蒙古自治区")
    for city, districts in GUANGDONG.items():
        names[city] = ("city", city)
        names[short_name(city)] = ("city", city)
        for district in districts:
            names[district] = ("district", district)
            short = short_name(district, ("瑶族自治县", "壮族瑶族自治县", "新区", "区", "县", "市"))
            if short != district and short not in AMBIGUOUS_SHORT:
                names.setdefault(short, ("district", district))
    _PLACE_NAMES.update(names)
    return _PLACE_NAMES


_PLACE_RE: re.Pattern[str] | None = None
# A short place name followed by one of these names a road or a building instead.
_PLACE_FOLLOWERS = re.compile(
    r"(?:[东南西北中一二三四五六]{0,2}(?:路|大道|大街|街(?!道)|巷)|大学|医院|公园|南站|北站|东站|西站|站|机场|酒店|宾馆|饭店|大厦|"
    r"广场|花园|小区|中学|小学|商场|城|人民|话|腔|菜|口音|街道|镇|村|社区)"
)


def _place_re() -> re.Pattern[str]:
    global _PLACE_RE
    if _PLACE_RE is None:
        alternatives = sorted(_place_names(), key=len, reverse=True)
        _PLACE_RE = re.compile("|".join(map(re.escape, alternatives)))
    return _PLACE_RE


def _admin_parts(text: str) -> list[AddressPart]:
    parts = []
    names = _place_names()
    for m in _place_re().finditer(text):
        said = m.group()
        level, value = names[said]
        is_full = said == value
        if not is_full and _PLACE_FOLLOWERS.match(text, m.end()):
            continue
        parts.append(AddressPart(level, value, said, m.span()))
        if value in MUNICIPALITIES or (
            level == "city" and value not in GUANGDONG
        ):  # 南京市鼓楼区: a district we do not list
            district = re.compile(rf"{_NAME_CHAR}{{1,4}}?(?:区|县)").match(text, m.end())
            if district and district.group()[-2:] not in ("小区", "社区", "园区", "景区", "校区"):
                parts.append(
                    AddressPart("district", district.group(), district.group(), district.span())
                )
    return parts


_LEVEL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("street", re.compile(rf"{_NAME_CHAR}{{2,5}}?(?:{_STREET_SUFFIX})")),
    ("community", re.compile(rf"{_NAME_CHAR}{{2,6}}?(?:{_COMMUNITY_SUFFIX})")),
    (
        "landmark",
        re.compile(rf"{_NAME_CHAR}{{2,10}}?(?:{_LANDMARK_SUFFIX})(?:{_LANDMARK_RELATION})?"),
    ),
    (
        "road",
        re.compile(
            rf"{_NAME_CHAR}{{2,8}}?(?:{_ROAD_SUFFIX})(?:[东南西北]{{1,2}}段?(?![边面头侧]))?"
            rf"(?:{_NUM}(?:之\d+)?号(?![楼线房码门]))?"
        ),
    ),
)
_BUILDING = re.compile(
    rf"(?:(?:{_NUM}|[a-zA-Z])(?:号楼|号栋|栋|座|幢|单元|楼|层|梯))+(?:{_NUM}(?:室|房|号房|号)?)?"
    rf"|{_NUM}(?:室|号房)"
)
_RELATION_TAIL = re.compile(rf"(?:{_LANDMARK_RELATION})$")


def _addresses(text: str, taken: list[tuple[int, int]]) -> tuple[Address, ...]:
    parts = [p for p in _admin_parts(text) if not _overlaps(p.span, taken)]
    taken = taken + [p.span for p in parts]
    for level, pattern in _LEVEL_PATTERNS:
        found = []
        for segment_start, segment in _free_segments(text, taken):
            for m in pattern.finditer(segment):
                part = _generic_part(level, m.group(), segment_start + m.start())
                if part is not None:
                    found.append(part)
        parts += found
        taken += [p.span for p in found]
    for m in _BUILDING.finditer(text):
        if not _overlaps(m.span(), taken) and not _is_floor_only(m.group()):
            parts.append(AddressPart("building", m.group(), m.group(), m.span()))
    parts.sort(key=lambda p: p.span)
    return _group(text, parts)


def _is_floor_only(said: str) -> bool:
    """一楼 or 三楼 alone is a floor said in passing, not a building."""
    return bool(re.fullmatch(rf"{_NUM}楼", said)) and len(said) <= 2


_LEVEL_SUFFIX = {
    "street": re.compile(rf"(?:{_STREET_SUFFIX})$"),
    "community": re.compile(rf"(?:{_COMMUNITY_SUFFIX})$"),
    "landmark": re.compile(rf"(?:{_LANDMARK_SUFFIX})$"),
    "road": re.compile(rf"(?:{_ROAD_SUFFIX})$"),
}


def _generic_part(level: str, said: str, start: int) -> AddressPart | None:
    """A street, community, landmark or road found by its suffix, with the words in
    front that are not part of its name trimmed; None for everyday words (马路, 农村)."""
    trimmed = _LEAD_TRIM.sub("", said)
    start += len(said) - len(trimmed)
    core = trimmed
    if level == "landmark":
        core = _RELATION_TAIL.sub("", core)
    if level == "road":
        core = re.sub(rf"{_NUM}(?:之\d+)?号$", "", core)
        core = re.sub(r"(大道|大街|路|街|巷)[东南西北]{1,2}段?$", r"\1", core)
    suffix = _LEVEL_SUFFIX[level].search(core)
    if suffix is None or suffix.start() < 2 or any(core.endswith(w) for w in _NOT_PLACES):
        return None
    return AddressPart(level, trimmed, trimmed, (start, start + len(trimmed)))


def _group(text: str, parts: list[AddressPart]) -> tuple[Address, ...]:
    """Parts said close together (at most a few characters apart) make one address."""
    groups: list[list[AddressPart]] = []
    for part in parts:
        if groups and _close(text, groups[-1][-1].span[1], part.span[0]):
            groups[-1].append(part)
        else:
            groups.append([part])
    addresses = [_address(text, group) for group in groups]
    addresses.sort(key=lambda a: -len({p.level for p in a.parts}))  # fullest first
    return tuple(addresses)


_LINK_WORDS = re.compile(r"[，,、\s]|就是|那个|这个|的|在|靠近|附近|嗯|啊")


def _close(text: str, end: int, start: int) -> bool:
    """Parts belong together when only punctuation and filler words stand between them."""
    between = text[end:start]
    if len(between) > 12 or re.search(r"[。！？!?；;]", between):
        return False
    return len(_LINK_WORDS.sub("", between)) <= 2


def _address(text: str, parts: list[AddressPart]) -> Address:
    fields: dict[str, str] = {}
    landmarks: list[str] = []
    for part in parts:
        if part.level == "landmark":
            landmarks.append(part.value)
        elif part.level not in fields:
            fields[part.level] = part.value
        elif part.level == "building":
            fields["building"] += part.value
    if "district" in fields and "city" not in fields:
        fields["city"] = CITY_OF_DISTRICT.get(fields["district"], "")
    if fields.get("province") in MUNICIPALITIES and "city" not in fields:
        fields["city"] = fields["province"]
    if fields.get("city") and "province" not in fields:
        fields["province"] = PROVINCE_OF_CITY.get(fields["city"], "")
    fields = {k: v for k, v in fields.items() if v}
    line = []
    for level in LEVELS:
        if level == "landmark":
            line += landmarks
        elif level in fields and (level != "city" or fields[level] != fields.get("province")):
            line.append(fields[level])
    span = (parts[0].span[0], parts[-1].span[1])
    return Address(
        address="".join(line),
        text=text[span[0] : span[1]],
        span=span,
        landmarks=tuple(landmarks),
        parts=tuple(parts),
        **fields,
    )
